"""The adversarial review of acd35e6, executed: one case per failing row of its findings table (numbered as
there), plus the rows found running the README's own examples (R1..R5). Each case reproduces the row and
asserts what a careful library does: the right value, or one line on stderr with the right exit code (usage
2, runtime failure 1, interrupted 130) naming the offending argument or file, never a traceback."""

import gzip
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from .conftest import run_cli as cli
from .test_data import write_idx

ROOT = Path(__file__).resolve().parents[1]


def one_line_error(result, code, *words):
    got, out, err = result
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert got == code, (got, err)
    assert len(lines) == 1 and "Traceback" not in err and out == "", err
    for word in words:
        assert word in lines[0], (word, lines[0])


def value_line(result, prefix):
    code, out, _ = result
    assert code == 0, result
    line = next(line for line in out.splitlines() if line.startswith(prefix))
    return float(line.split("=")[1].split()[0])


def np_save(path, array):
    np.save(path, np.asarray(array, dtype=float))
    return path


# --------------------------------------------------------------------------- the rows


def row_01(tmp):  # rerun calls any function a JSON names
    f = tmp / "evil.json"
    f.write_text(json.dumps({"config": f"touch {tmp / 'PWNED'}", "function": "os:system", "result": 0}))
    one_line_error(cli("rerun", f), 2, "not a registered experiment")
    assert not (tmp / "PWNED").exists()


def row_02(tmp):  # rerun evaluates arbitrary Python
    f = tmp / "evil.json"
    f.write_text(
        json.dumps({"config": "__import__('os').getcwd()", "function": "builtins:eval", "result": "x"})
    )
    one_line_error(cli("rerun", f), 2, "not a registered experiment")


def row_03(tmp):  # native heap corruption: in a subprocess, so that a crash cannot take the test runner down
    code = (
        "import numpy as np; from lmctheory.ot._assignment import solve_assignment\n"
        "C = np.random.default_rng(0).random((8, 8)); C[0, :] = 1e308; C[:, 0] = -1e308\n"
        "p = solve_assignment(C); assert sorted(p) == list(range(8)) and p[0] == 0; print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def row_04(tmp):  # certificate accepted a far-from-optimal permutation
    from scipy.optimize import linear_sum_assignment

    from lmctheory.ot import solve_assignment

    C = np.exp(-200 * np.random.default_rng(174).random((6, 6)))
    r, c = linear_sum_assignment(C)
    assert C[np.arange(6), solve_assignment(C)].sum() == pytest.approx(C[r, c].sum(), rel=1e-12)


def row_05(tmp):  # W_p for 100 < p < 540 too large
    from lmctheory.ot import wasserstein

    rng = np.random.default_rng(0)
    x, y = rng.random((20, 3)), rng.random((20, 3))
    assert wasserstein(x, y, p=200) == pytest.approx(0.54681, abs=5e-6)
    assert 0.5468 <= wasserstein(x, y, p=500) <= 0.5551  # within [W_inf n^-1/p, W_inf]


def row_06(tmp):  # W_p = 0 for p >= 540
    from lmctheory.ot import wasserstein

    assert wasserstein(np.array([0.0]), np.array([1.0]), p=1000) == 1.0
    x, y = np_save(tmp / "x.npy", [0.0]), np_save(tmp / "y.npy", [1.0])
    assert value_line(cli("wasserstein", x, y, "--p", "1e6"), "W_1e+06") == 1.0


def row_07(tmp):  # method='emd' certified a 2x value
    from lmctheory.ot import wasserstein

    rng = np.random.default_rng(1)
    x, y = 1e-9 * rng.random((30, 2)), 1e-9 * rng.random((30, 2))
    x[0] = y[0] = [1, 0]
    assert wasserstein(x, y, method="emd") == pytest.approx(2.212e-10, rel=1e-3)


def row_08(tmp):  # unequal sizes, 19x too large
    from lmctheory.ot import transport

    rng = np.random.default_rng(1)
    x, y = 1e-9 * rng.random((10, 2)), 1e-9 * rng.random((20, 2))
    x[0] = y[0] = y[1] = [1, 0]
    assert transport(x, y, 2).distance == pytest.approx(2.733e-10, rel=1e-3)


def row_09(tmp):  # assignment route at scale 1e-25
    from lmctheory.ot import wasserstein

    rng = np.random.default_rng(1)
    x, y = 1e-25 * rng.random((30, 2)), 1e-25 * rng.random((30, 2))
    x[0] = y[0] = [1, 0]
    assert wasserstein(x, y) == pytest.approx(2.212e-26, rel=1e-3)


def row_10(tmp):  # 1-D W_2 NaN near 1e308
    a, b = np_save(tmp / "a.npy", [5e307, 0.0]), np_save(tmp / "b.npy", [0.0, 0.0])
    assert value_line(cli("wasserstein", a, b), "W_2") == pytest.approx(5e307 / np.sqrt(2), rel=1e-9)


def row_11(tmp):  # a one-row csv is one point
    (tmp / "one.csv").write_text("1,2,3\n")
    (tmp / "one2.csv").write_text("4,5,6\n")
    assert value_line(cli("wasserstein", tmp / "one.csv", tmp / "one2.csv"), "W_2") == pytest.approx(27**0.5)


def row_12(tmp):  # ParticipationRatio NaN at scale >= 1e77
    from lmctheory.dimension import ParticipationRatio

    X = np.random.default_rng(0).random((200, 5))
    assert ParticipationRatio().fit(X * 1e77).dimension_ == pytest.approx(
        ParticipationRatio().fit(X).dimension_
    )


def row_13(tmp):  # PCA 0 at scale >= 1e154
    from lmctheory.dimension import PCADimension as PCA

    X = np.random.default_rng(0).random((200, 5))
    assert PCA().fit(X * 1e154).dimension_ == 5.0
    code, out, _ = cli("dimension", np_save(tmp / "big.npy", X * 1e200), "--estimator", "pca")
    assert code == 0 and " 5 " in out


def _npz_train(tmp, name, **arrays):
    np.savez(tmp / name, **arrays)
    return cli("train", "--data", "npz", "--data-path", tmp / name, "--epochs", "1", "--out-dir", tmp / "t")


def row_14(tmp):  # float labels silently truncated
    rng = np.random.default_rng(0)
    one_line_error(_npz_train(tmp, "f.npz", x=rng.random((200, 4)), y=rng.random(200) * 3), 2, "integer")


def row_15(tmp):  # a record copied over another config's file is used
    from lmctheory.runs import run_sweep

    from .test_sweep import path_of, square

    configs = [{"x": 1, "seed": 0}, {"x": 2, "seed": 0}]
    run_sweep(square, configs, tmp, progress=False)
    path_of(square, configs[1], tmp).write_text(path_of(square, configs[0], tmp).read_text())
    res = run_sweep(square, configs, tmp, progress=False)
    assert res.ran == 1 and sorted(r["result"]["y"] for r in res.done) == [1, 4]


def _depth_smoke(tmp, *options):
    code, out, _ = cli("validate", "--smoke", "--only", "depth", "--out", tmp, "--json", "--quiet", *options)
    assert code == 0
    return json.loads(out)["rows"]


def row_16(tmp):  # results depend on --n-jobs
    one, two = _depth_smoke(tmp / "a"), _depth_smoke(tmp / "b", "--n-jobs", "2")
    assert [(r["measured"], r["measured_std"]) for r in one] == [
        (r["measured"], r["measured_std"]) for r in two
    ]


def row_17(tmp):  # rerun of records made with --n-jobs 2 differs
    _depth_smoke(tmp, "--n-jobs", "2")
    record = next((tmp / "depth-smoke").glob("*.json"))
    code, out, _ = cli("rerun", record)
    assert code == 0 and "identical" in out


def row_18(tmp):  # rerun of a document whose argv is --help 'succeeds'
    f = tmp / "r.json"
    f.write_text(json.dumps({"config": {}, "argv": ["rates", "--help"], "result": {}}))
    one_line_error(cli("rerun", f), 2, "help")


def row_19(tmp):  # --only depth,depth doubles every row
    rows = _depth_smoke(tmp, "--only", "depth,depth")
    assert len({r["prediction"] for r in rows}) == len(rows)


def row_20(tmp):  # distinct configs share a hash
    from lmctheory.runs import config_hash

    with pytest.raises(TypeError, match="strings"):
        config_hash({1: "a", "seed": 0})
    for value in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite"):
            config_hash({"x": value})


def row_21(tmp):  # rerun writes files through an abbreviated option
    f = tmp / "r.json"
    f.write_text(
        json.dumps(
            {
                "config": {},
                "argv": ["rates", "--d", "2", "--ns", "8,16", "--reps", "2", "--plo", str(tmp / "PLOT.png")],
                "result": {},
            }
        )
    )
    one_line_error(cli("rerun", f), 2, "not a valid")
    assert not list(tmp.glob("PLOT*"))


def row_22(tmp):  # a sampler returning n + 1 points
    from lmctheory.rates import rate_curve

    with pytest.raises(ValueError, match="n points"):
        rate_curve(lambda n, rng: rng.random((n + 1, 2)), [8, 16], reps=2, seed=0)


def row_23(tmp):  # one non-JSON result aborts the sweep
    from lmctheory.runs import run_sweep

    from .test_sweep import not_json

    res = run_sweep(not_json, [{"x": i} for i in range(3)], tmp, progress=False)
    assert res.ran == 3 and res.failed == 1


def row_24(tmp):  # a record of valid JSON but the wrong shape
    _depth_smoke(tmp)
    record = next((tmp / "depth-smoke").glob("*.json"))
    for content in ("[]", '"done"', '{"status": "done", "versions": "0.1.0"}'):
        record.write_text(content)
        assert _depth_smoke(tmp)


def row_25(tmp):  # an arithmetic --ns of 1e12 sizes
    one_line_error(cli("rates", "--d", "2", "--ns", "1,2,...,1000000000000", "--reps", "2"), 2, "--ns")


def row_26(tmp):  # huge p in the explicit bound
    from lmctheory.rates import fg_explicit_bound

    code, out, _ = cli("rate-bound", "--d", "5", "--p", "1e308")
    assert code == 0 and "inf" in out
    assert fg_explicit_bound(10, 5, 1e6) == np.inf  # beyond float range, stated as inf


def row_27(tmp):  # a very deep recursion bound
    one_line_error(cli("bounds", "--epsilon", "0.1", "--m0", "5", "--depth", "100000"), 2, "depth")
    assert cli("bounds", "--epsilon", "0.1", "--m0", "5", "--depth", "2000", "--json")[0] == 0


def row_28(tmp):  # sliced W with 1e9 directions
    x = np_save(tmp / "x.npy", np.random.default_rng(0).random((50, 3)))
    one_line_error(cli("wasserstein", x, x, "--sliced", "1000000000"), 1, "directions")


def row_29(tmp):  # dimension benchmark with huge sizes
    one_line_error(cli("dimension", "--benchmark", "--ns", "100", "--Ds", "1000000000"), 1, "GiB")


def row_30(tmp):  # npz with a negative label
    rng = np.random.default_rng(0)
    one_line_error(
        _npz_train(tmp, "n.npz", x=rng.random((50, 4)), y=np.r_[-1, np.zeros(49, int)]), 2, "labels"
    )


def row_31(tmp):  # npz with label 1e9
    rng = np.random.default_rng(0)
    one_line_error(
        _npz_train(tmp, "h.npz", x=rng.random((50, 4)), y=np.r_[10**9, np.zeros(49, int)]), 2, "labels"
    )


def _checkpoint_pair(tmp):
    code, _, err = cli(
        "train",
        "--data",
        "digits",
        "--widths",
        "64,16,10",
        "--epochs",
        "1",
        "--pair",
        "independent",
        "--out-dir",
        tmp / "ck",
    )
    assert code == 0, err
    return tmp / "ck" / "model_a.pt", tmp / "ck" / "model_b.pt"


def row_32(tmp):  # a sidecar declaring 200,000-wide layers
    a, b = _checkpoint_pair(tmp)
    side = json.loads(a.with_suffix(".json").read_text())
    side["model"]["widths"] = [200000, 200000, 10]
    side.pop("weights_sha256")
    a.with_suffix(".json").write_text(json.dumps(side))
    one_line_error(cli("barrier", a, b), 2, "does not match its config")


def row_33(tmp):  # a checkpoint with a wrong tensor shape
    a, b = _checkpoint_pair(tmp)
    state = torch.load(a, weights_only=True)
    state["layers.0.weight"] = torch.zeros(16, 63)
    torch.save(state, a)
    side = json.loads(a.with_suffix(".json").read_text())
    side.pop("weights_sha256")
    a.with_suffix(".json").write_text(json.dumps(side))
    one_line_error(cli("barrier", a, b), 2, "layers.0.weight")


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED_by_pickle",))


def row_34(tmp):  # a malicious pickle checkpoint: refused in one line, nothing run
    a, b = _checkpoint_pair(tmp)
    torch.save({"x": _Evil()}, a)
    side = json.loads(a.with_suffix(".json").read_text())
    side.pop("weights_sha256")
    a.with_suffix(".json").write_text(json.dumps(side))
    one_line_error(cli("barrier", a, b), 2, "weights-only")
    assert not Path("PWNED_by_pickle").exists()


def _idx_dir(tmp, labels_dtype=np.uint8):
    root = tmp / "mnist"
    root.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for stem, n in (("train", 60), ("t10k", 20)):
        write_idx(root / f"{stem}-images-idx3-ubyte", rng.integers(0, 255, (n, 4, 4)).astype(np.uint8))
        write_idx(root / f"{stem}-labels-idx1-ubyte", (np.arange(n) % 3).astype(labels_dtype))
    return root


def _idx_train(root, tmp):
    return cli(
        "train",
        "--data",
        "idx",
        "--data-path",
        root,
        "--epochs",
        "1",
        "--widths",
        "16,8,3",
        "--out-dir",
        tmp / "t",
    )


def row_35(tmp):  # IDX with a truncated header
    root = _idx_dir(tmp)
    (root / "train-images-idx3-ubyte").write_bytes(bytes([0, 0, 8, 0xFF]) + b"0123456789")
    one_line_error(_idx_train(root, tmp), 2, "truncated")


def row_36(tmp):  # a gzip bomb: the header is checked before anything is decompressed
    root = _idx_dir(tmp)
    (root / "train-images-idx3-ubyte").unlink()
    with gzip.open(root / "train-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 100000, 100000) + bytes(1 << 20))
    one_line_error(_idx_train(root, tmp), 2, "limit")


def row_37(tmp):  # rerun naming a missing module / attribute
    for function in ("lmctheory.nosuch:f", "os:nosuch"):
        f = tmp / "r.json"
        f.write_text(json.dumps({"config": {}, "function": function, "result": {}}))
        one_line_error(cli("rerun", f), 2, "not a registered experiment")


def row_38(tmp):  # Ctrl-C during validate: one line, exit 130, records intact
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lmctheory.cli",
            "validate",
            "--quick",
            "--only",
            "rates",
            "--out",
            str(tmp / "sigint"),
            "--quiet",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not list((tmp / "sigint").glob("rates-quick/*.json")) and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for record in (tmp / "sigint").glob("rates-quick/*.json"):
        json.loads(record.read_text())  # no half-written record


def row_39(tmp):  # --dask-local 0 hung
    one_line_error(
        cli("validate", "--smoke", "--only", "depth", "--out", tmp / "o", "--dask-local", "0"),
        2,
        "--dask-local",
    )


def row_40(tmp):  # bad --data values passed the fail-fast check and exit 0
    for spec in (
        "teacher:hidden=-1",
        "teacher:classes=0",
        "teacher:task=regression",
        "teacher:seed=-1",
        "teacher:n_train=1.5",
        "gaussian_mixture:d=1e400",
        "digits:seed=abc",
    ):
        one_line_error(cli("validate", "--smoke", "--only", "fig2", "--out", tmp / "o", "--data", spec), 2)
    assert not (tmp / "o").exists()


def row_41(tmp):  # --baseline read only after every experiment ran
    one_line_error(
        cli(
            "validate",
            "--smoke",
            "--only",
            "depth",
            "--out",
            tmp / "o",
            "--baseline",
            tmp / "nonexistent.json",
        ),
        2,
        "--baseline",
    )
    assert not (tmp / "o").exists()


def row_42(tmp):  # malformed --baseline
    for content in (b'{"rows":[{"experiment":"rates"}]}', b"[1,2]", b"\xff\xfe"):
        (tmp / "b.json").write_bytes(content)
        one_line_error(
            cli("validate", "--smoke", "--only", "depth", "--out", tmp / "o", "--baseline", tmp / "b.json"),
            2,
            "b.json",
        )


def row_43(tmp):  # a non-UTF-8 record blocked resuming
    _depth_smoke(tmp)
    next((tmp / "depth-smoke").glob("*.json")).write_bytes(b"\x00\xff garbage")
    assert _depth_smoke(tmp)


def row_44(tmp):  # status done but result null
    _depth_smoke(tmp)
    next((tmp / "depth-smoke").glob("*.json")).write_text(
        '{"status":"done","versions":{"lmctheory":"0.1.0"},"result":null,"config":{}}'
    )
    assert _depth_smoke(tmp)


def row_45(tmp):  # ID estimators refused clouds of scale 1e300
    from lmctheory.dimension import MLE, CorrelationDimension, TwoNN

    X = np.random.default_rng(0).random((300, 4))
    for est in (MLE, TwoNN, CorrelationDimension):
        assert est().fit(X * 1e300).dimension_ == pytest.approx(est().fit(X).dimension_, rel=1e-9)


def row_46(tmp):  # ID estimators refused clouds of scale 1e-300
    from lmctheory.dimension import MLE, TwoNN

    X = np.random.default_rng(0).random((300, 4))
    assert MLE().fit(X * 1e-300).dimension_ == pytest.approx(MLE().fit(X).dimension_, rel=1e-9)
    assert TwoNN().fit(X * 1e-310).dimension_ == pytest.approx(TwoNN().fit(X).dimension_, rel=1e-3)


def row_47(tmp):  # finite 2-D input near 1e308 refused
    x = np_save(tmp / "x.npy", [[1e308, 0], [0, 0]])
    y = np_save(tmp / "y.npy", [[1e308, 1], [0, 1]])
    assert value_line(cli("wasserstein", x, y), "W_2") == 1.0


def row_48(tmp):  # IDX with int32 labels
    assert _idx_train(_idx_dir(tmp, np.int32), tmp)[0] == 0


def row_49(tmp):  # a broken pipe was a usage error
    proc = subprocess.run(
        f"{sys.executable} -m lmctheory.cli bounds --epsilon 0.1 --m0 784 --depth 3 --json | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stderr == ""


def row_50(tmp):  # an empty csv printed three lines
    (tmp / "empty.csv").write_text("")
    x = np_save(tmp / "x.npy", [[0.0, 1.0]])
    one_line_error(cli("wasserstein", tmp / "empty.csv", x), 2, "empty")


def row_51(tmp):  # a negative seed's message named no option
    one_line_error(cli("rates", "--d", "2", "--ns", "8,16", "--reps", "2", "--seed", "-1"), 2, "--seed")


def row_52(tmp):  # huge --ns values
    one_line_error(cli("rates", "--d", "2", "--ns", "1e30,2e30"), 2, "too large")
    one_line_error(cli("rate-bound", "--d", "5", "--ns", "1e300"), 2, "too large")


def row_53(tmp):  # bounds with overflowing parameters
    code, out, _ = cli("bounds", "--epsilon", "0.1", "--m0", "5", "--C", "1e308")
    assert code == 0 and "ferbach 10^1545" in out
    code, out, _ = cli("bounds", "--epsilon", "1e308", "--m0", "5")
    assert code == 0 and "every width" in out


def row_54(tmp):  # a bad LMCTHEORY_MAX_BYTES
    x = np_save(tmp / "x.npy", np.random.default_rng(0).random((5, 2)))
    for bad in ("abc", "nan", "-1"):
        one_line_error(cli("wasserstein", x, x, env={"LMCTHEORY_MAX_BYTES": bad}), 2, "LMCTHEORY_MAX_BYTES")


def row_55(tmp):  # --out to an unwritable location
    one_line_error(cli("rate-bound", "--d", "5", "--out", "/proc/version"), 2, "/proc/version")


def row_56(tmp):  # rerun of malformed documents
    for doc, words in (
        ({"config": {}, "argv": "rates --d 2", "result": {}}, "list of strings"),
        ({"config": {}, "function": "x:y"}, "no 'result'"),
        ({"config": {}, "status": "failed", "error": None}, "failed configuration"),
    ):
        (tmp / "r.json").write_text(json.dumps(doc))
        one_line_error(cli("rerun", tmp / "r.json"), 2, words)


def row_57(tmp):  # malformed checkpoints: a sidecar that is a list, all-NaN weights
    a, b = _checkpoint_pair(tmp)
    sidecar = a.with_suffix(".json").read_text()
    a.with_suffix(".json").write_text("[1, 2]")
    one_line_error(cli("barrier", a, b), 2, "sidecar")
    a.with_suffix(".json").write_text(sidecar)
    state = {k: torch.full_like(v, float("nan")) for k, v in torch.load(a, weights_only=True).items()}
    torch.save(state, a)
    side = json.loads(sidecar)
    side.pop("weights_sha256")
    a.with_suffix(".json").write_text(json.dumps(side))
    one_line_error(cli("barrier", a, b), 2, "non-finite")


def row_58(tmp):  # npz with different feature counts in train and test
    rng = np.random.default_rng(0)
    one_line_error(
        _npz_train(
            tmp,
            "m.npz",
            x_train=rng.random((50, 4)),
            y_train=np.zeros(50, int),
            x_test=rng.random((50, 5)),
            y_test=np.zeros(50, int),
        ),
        2,
        "test inputs",
    )


def row_59(tmp):  # evaluate_path bad inputs
    from lmctheory.lmc import evaluate_path
    from lmctheory.nn import MLP

    a, b = MLP([4, 8, 3]), MLP([4, 8, 3])
    x = np.random.default_rng(0).random((10, 4)).astype(np.float32)
    y = np.arange(10) % 3
    assert len(evaluate_path(a, b, (x, y), ts=[0.0, 1.0]).values["loss"]) == 2  # numpy arrays are accepted
    for data, match in (
        ((x, y + 5), "labels"),
        ((x, y - 1), "labels"),
        ((np.ones((10, 5), np.float32), y), "inputs of shape"),
    ):
        with pytest.raises(ValueError, match=match):
            evaluate_path(a, b, data, ts=[0.0, 1.0])


def row_60(tmp):  # a config that is not a dict
    from lmctheory.runs import run_sweep

    from .test_sweep import square

    with pytest.raises(TypeError, match="config must be a dict"):
        run_sweep(square, [[1, 2]], tmp)


def row_61(tmp):  # figures --only 1 ran every other experiment
    from lmctheory_paper.figures._common import RUNS

    RUNS.clear()
    assert cli("figures", "--smoke", "--only", "1", "--no-cache", "--out", tmp / "f", "--quiet")[0] == 0
    assert {name for name, ran, _ in RUNS if ran} == {"rates"}


def row_R1(tmp):  # barrier ignored the dataset saved with the checkpoints
    code, _, err = cli(
        "train",
        "--data",
        "mnist1d",
        "--widths",
        "40,16,10",
        "--epochs",
        "1",
        "--pair",
        "independent",
        "--out-dir",
        tmp / "ck",
    )
    assert code == 0, err
    code, out, err = cli("barrier", tmp / "ck" / "model_a.pt", tmp / "ck" / "model_b.pt", "--points", "3")
    assert code == 0 and "[test] loss" in out, err


def row_R2(tmp):  # rerun on a record of the README's sweep example
    from lmctheory.runs import run_sweep

    from .test_sweep import quick_square

    run_sweep(quick_square, [{"x": 2}], tmp, progress=False)
    one_line_error(cli("rerun", next(tmp.glob("*.json"))), 2, "register_experiment")


def row_R3(tmp):  # bounds JSON recorded F = 1 while the table used 2^-784
    code, out, _ = cli("bounds", "--epsilon", "0.1", "--m0", "784", "--depth", "3", "--json")
    F = json.loads(out)["definitions"]["lower"]["constants"]["F"]
    assert code == 0 and F["log10_value"] == pytest.approx(-784 * np.log10(2))


def row_R4(tmp):  # --epsilon 2 printed a width of 0
    code, out, _ = cli("bounds", "--epsilon", "2", "--m0", "5")
    assert code == 0 and "ferbach 1," in out and "every width" in out


def row_R5(tmp):  # validate --only X --out DIR replaced DIR's report
    _depth_smoke(tmp, "--only", "depth,two_layer")
    _depth_smoke(tmp)
    rows = json.loads((tmp / "validation.json").read_text())["rows"]
    assert {r["experiment"] for r in rows} == {"depth", "two_layer"}


ROWS = {name[4:]: fn for name, fn in sorted(globals().items()) if name.startswith("row_")}
SLOW = {"38"}  # seconds of real work before the interrupt


@pytest.mark.parametrize("row", [pytest.param(r, marks=pytest.mark.slow) if r in SLOW else r for r in ROWS])
def test_finding(row, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ROWS[row](tmp_path)


def test_every_failing_row_of_the_review_has_a_case():
    assert {r for r in ROWS if r.isdigit()} == {f"{i:02d}" for i in range(1, 62)}
