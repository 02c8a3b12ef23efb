"""The ``lmctheory`` command: tables, JSON documents, files, errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from lmctheory.cli import load_points, parse_sizes
from lmctheory.ot import sliced_wasserstein, transport
from lmctheory.rates import fg_explicit_bound
from tests.conftest import run_cli
from tests.helpers import checkpoint_pair, np_save, one_line_error, value_line


def test_console_script_lists_its_subcommands():
    proc = subprocess.run([sys.executable, "-m", "lmctheory.cli", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for sub in ("rates", "rate-bound", "wasserstein"):
        assert sub in proc.stdout


@pytest.mark.parametrize(
    "text,expected",
    [
        ("64,128,256", [64, 128, 256]),
        ("64,128,...,1024", [64, 128, 256, 512, 1024]),
        ("10,20,...,50", [10, 20, 30, 40, 50]),  # 50 is not on the geometric progression
        ("100", [100]),
        ("1e3,2e3", [1000, 2000]),
    ],
)
def test_parse_sizes(text, expected):
    assert parse_sizes(text) == expected


@pytest.mark.parametrize("text", ["0", "", "64,abc", "64,128,...", "64,70,...,101", "5,5", "64.5"])
def test_parse_sizes_rejects(text):
    with pytest.raises(ValueError):
        parse_sizes(text)


def test_rates_json_is_one_document_with_provenance(tmp_path):
    out_file = tmp_path / "r.json"
    code, out, _ = run_cli(
        "rates",
        "--law",
        "uniform",
        "--d",
        "3",
        "--ns",
        "16,32,...,128",
        "--reps",
        "3",
        "--n-jobs",
        "1",
        "--json",
        "--out",
        str(out_file),
    )
    assert code == 0
    doc = json.loads(out)
    assert doc == json.loads(out_file.read_text())
    assert doc["command"] == "rates" and doc["seed"] == 0
    assert doc["config"]["law"]["law"] == "uniform" and doc["config"]["ns"] == [16, 32, 64, 128]
    assert doc["versions"]["lmctheory"] and "W_p" in doc["definitions"]
    res = doc["result"]
    assert [r["n"] for r in res["rows"]] == [16, 32, 64, 128]
    assert res["regime"] == "d<2p" and res["predicted_slope"] == pytest.approx(-0.25)
    # the explicit bound column is the library's bound, and the measured means stay below it
    bound = fg_explicit_bound(np.array([16, 32, 64, 128]), 3, 2, two_sample=True, radius=0.5)
    np.testing.assert_allclose([r["bound_W_pow_p"] for r in res["rows"]], bound)
    assert res["bound_respected"] is True
    means = [r["mean_W"] for r in res["rows"]]
    np.testing.assert_allclose(means, np.mean(res["curve"]["replicates"], axis=1))
    assert res["fit"]["ci_low"] <= res["fit"]["slope"] <= res["fit"]["ci_high"]


def test_rates_table_and_plot(tmp_path):
    png = tmp_path / "curve.png"
    code, out, _ = run_cli(
        "rates", "--d", "5", "--ns", "32,64,128", "--reps", "2", "--n-jobs", "1", "--plot", str(png)
    )
    assert code == 0
    assert "fitted slope" in out and "predicted" in out and "d>2p" in out
    assert png.stat().st_size > 1000 and png.with_suffix(".pdf").stat().st_size > 1000


def test_rates_one_sample_on_a_law_with_a_reference():
    code, out, _ = run_cli(
        "rates",
        "--law",
        "two-atom",
        "--d",
        "2",
        "--one-sample",
        "--ns",
        "32,64,128",
        "--reps",
        "6",
        "--n-jobs",
        "1",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["config"]["two_sample"] is False


def test_rate_bound_json():
    code, out, _ = run_cli("rate-bound", "--d", "6", "--p", "1", "--ns", "10,100", "--two-sample", "--json")
    assert code == 0
    rows = json.loads(out)["result"]["rows"]
    assert rows[1]["bound_W_pow_p"] == pytest.approx(
        fg_explicit_bound(100, 6, 1, two_sample=True, radius=0.5)
    )


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".txt", ".npz"])
def test_wasserstein_from_files(tmp_path, suffix, rng):
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 3))
    paths = []
    for name, arr in (("x", x), ("y", y)):
        path = tmp_path / f"{name}{suffix}"
        if suffix == ".npy":
            np.save(path, arr)
        elif suffix == ".npz":
            np.savez(path, x=arr)
        else:
            np.savetxt(path, arr, delimiter="," if suffix == ".csv" else " ")
        paths.append(str(path))
    code, out, _ = run_cli("wasserstein", *paths, "--p", "1", "--match", "--json")
    assert code == 0
    res = json.loads(out)["result"]
    ref = transport(x, y, 1)
    assert res["distance"] == pytest.approx(ref.distance, rel=1e-9)
    assert res["cost"] == pytest.approx(ref.cost, rel=1e-9)
    assert sorted(res["perm"]) == list(range(12))
    code, out, _ = run_cli("wasserstein", *paths, "--sliced", "50", "--seed", "4")
    assert code == 0
    assert f"{sliced_wasserstein(x, y, 2, n_projections=50, seed=4):.6g}" in out


@pytest.mark.parametrize(
    "argv,match",
    [
        (["rates", "--ns", "0"], "--ns sizes must be >= 1"),
        (["rates", "--p", "0.5", "--ns", "8,16,32"], "p must be"),
        (["rates", "--law", "subspace", "--ns", "8,16,32"], "needs k"),
        (["rates", "--reps", "0", "--ns", "8,16,32"], "reps must be"),
        (
            ["rates", "--d", "2", "--one-sample", "--ns", "8,16,32"],
            "needs a law with an exact one-sample reference",
        ),
        (["rate-bound", "--d", "0"], "d must be"),
        (["wasserstein", "/nonexistent/x.npy", "/nonexistent/y.npy"], "no such file"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(argv, match):
    code, out, err = run_cli(*argv)
    assert code == 2 and out == ""
    assert match in err and err.count("\n") == 1 and "Traceback" not in err


def test_wasserstein_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\nfoo,3\n")
    with pytest.raises(ValueError, match="not a numeric table"):
        load_points(str(bad))
    nan = tmp_path / "nan.npy"
    np.save(nan, np.array([[np.nan, 1.0]]))
    code, _, err = run_cli("wasserstein", str(nan), str(nan))
    assert code == 2 and "non-finite" in err


# ------------------------------------------------------------------ dimension


def test_dimension_of_a_file_reports_every_estimator_with_n_and_d(tmp_path, rng):
    from lmctheory.dimension import TwoNN

    X = rng.normal(size=(600, 3)) @ rng.normal(size=(3, 8))
    path = tmp_path / "cloud.npy"
    np.save(path, X)
    code, out, _ = run_cli("dimension", str(path), "--json")
    assert code == 0
    estimates = {e["estimator"]: e for e in json.loads(out)["result"]["estimates"]}
    assert set(estimates) == {
        "ParticipationRatio",
        "PCADimension",
        "MLE",
        "TwoNN",
        "CorrelationDimension",
        "WassersteinDimension",
    }
    assert all(e["n_points"] == 600 and e["n_features"] == 8 for e in estimates.values())
    assert estimates["TwoNN"]["dimension"] == pytest.approx(TwoNN().fit(X).dimension_, rel=1e-12)
    assert estimates["PCADimension"]["dimension"] == 3
    code, out, _ = run_cli("dimension", str(path), "--estimator", "mle")
    assert code == 0 and "MLE" in out and "TwoNN" not in out


def test_dimension_reports_estimator_failures_per_row(tmp_path, rng):
    path = tmp_path / "small.npy"
    np.save(path, rng.normal(size=(12, 3)))
    code, out, _ = run_cli("dimension", str(path), "--json")
    assert code == 0
    rows = {e["estimator"]: e for e in json.loads(out)["result"]["estimates"]}
    assert rows["MLE"]["dimension"] is None and "more than 20" in rows["MLE"]["error"]
    assert rows["PCADimension"]["dimension"] is not None


def test_dimension_benchmark_table():
    code, out, _ = run_cli(
        "dimension", "--benchmark", "--ns", "300", "--Ds", "6", "--estimator", "twonn", "--json"
    )
    assert code == 0
    rows = json.loads(out)["result"]["rows"]
    assert {r["manifold"] for r in rows} >= {
        "sphere",
        "ball",
        "affine",
        "swiss-roll",
        "helix",
        "gaussian",
        "curve",
    }
    for r in rows:
        assert abs(r["estimates"]["twonn"] - r["d"]) < 0.35 * r["d"] + 0.3, r


@pytest.mark.parametrize(
    "argv,match",
    [
        (["dimension"], "give a point-cloud FILE"),
        (["dimension", "x.npy", "--benchmark"], "either FILE or --benchmark"),
    ],
)
def test_dimension_usage_errors(argv, match):
    code, _, err = run_cli(*argv)
    assert code == 2 and match in err


# --------------------------------------------------------------------- bounds


def test_bounds_table_json_and_inverse():
    from lmctheory.bounds import deep_recursion, ferbach_two_layer

    code, out, err = run_cli(
        "bounds",
        "--epsilon",
        "0.1",
        "--m0",
        "784",
        "--depth",
        "3",
        "--k",
        "10",
        "--eta",
        "1e-3",
        "--width",
        "512",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)  # exactly one JSON document, strict (no NaN/inf)
    layers = doc["result"]["layers"]
    assert [row["upper"] for row in layers] == [
        {"log10": 784.0},
        {"log10log10": 784.0},
        {"log10log10log10": 784.0},
    ]
    assert layers[0]["effective"] == {"log10": pytest.approx(10.0)}
    assert layers[0]["satisfies_upper"] is False
    eps = doc["result"]["epsilon_at_width"]
    assert eps["ferbach"] == pytest.approx(ferbach_two_layer(784).solve_epsilon(512))
    assert eps["deep"] == pytest.approx(deep_recursion(784, 3).solve_epsilon(512))
    assert eps["explicit_matching_error_lower"] <= eps["explicit_matching_error_upper"]
    assert doc["definitions"]["ferbach"]["constants"]["C"]["published"] is False
    code, out, _ = run_cli("bounds", "--m0", "784", "--depth", "3")
    assert code == 0 and "10^10^10^784" in out and "entezari 10^1572" in out
    code, out, _ = run_cli("bounds", "--m0", "10", "--latex")
    assert code == 0 and "\\left(\\frac{C}{\\epsilon}\\right)^{2 m_{0} + 4}" in out


@pytest.mark.parametrize(
    "argv,match",
    [
        (["bounds", "--m0", "784", "--epsilon", "0"], "epsilon must be"),
        (["bounds", "--m0", "784", "--epsilon", "-1"], "epsilon must be"),
        (["bounds", "--m0", "784", "--width", "0.5"], "width must be >= 1"),
        (["bounds", "--m0", "784", "--C", "-2", "--width", "10"], "C must be"),
        (["bounds", "--m0", "3"], "m0 > 2p"),
        (["bounds", "--m0", "784", "--k", "5"], "--k and --eta"),
        (["bounds", "--m0", "784", "--depth", "0"], "depth must be"),
    ],
)
def test_bounds_errors(argv, match):
    code, out, err = run_cli(*argv)
    assert code == 2 and out == "" and match in err


def test_bounds_json_is_finite_for_extreme_parameters():
    for m0, depth, eps in ((10**4, 10, 1e-9), (5, 1, 0.999), (784, 5, 1e-300)):
        code, out, _ = run_cli(
            "bounds",
            "--m0",
            str(m0),
            "--depth",
            str(depth),
            "--epsilon",
            str(eps),
            "--width",
            "1e300",
            "--json",
        )
        assert code == 0
        json.loads(out)  # dumps(allow_nan=False) would have raised on inf/NaN


# -------------------------------------------------------------- train / barrier


def test_train_pair_then_barrier(tmp_path):
    out = tmp_path / "ck"
    code, text, _ = run_cli(
        "train",
        "--model",
        "mlp",
        "--widths",
        "64,32,10",
        "--data",
        "digits",
        "--epochs",
        "2",
        "--out-dir",
        str(out),
        "--pair",
        "same-init",
        "--json",
    )
    assert code == 0
    doc = json.loads(text)
    assert len(doc["result"]["checkpoints"]) == 2 and doc["config"]["pair"] == "same-init"
    sidecar = json.loads((out / "model_a.json").read_text())
    assert (
        sidecar["train"]["data_seed"] == 0
        and json.loads((out / "model_b.json").read_text())["train"]["data_seed"] == 1
    )
    code, text, _ = run_cli(
        "barrier",
        str(out / "model_a.pt"),
        str(out / "model_b.pt"),
        "--align",
        "weighted",
        "--points",
        "5",
        "--json",
    )
    assert code == 0
    res = json.loads(text)["result"]
    for split in ("train", "test"):
        s = res["splits"][split]
        assert s["path"]["split"] == split and len(s["path"]["values"]["loss"]) == 5
        assert s["path"]["barriers"]["loss"]["above_chord"] <= s["certified_bound"]["upper"] + 1e-6
    code, text, _ = run_cli("barrier", str(out / "model_a.pt"), str(out / "model_b.pt"), "--align", "none")
    assert code == 0 and "certified bound" in text and "[test] error barriers" in text
    code, text, _ = run_cli(
        "barrier", str(out / "model_a.pt"), str(out / "model_b.pt"), "--over-segment", "--json"
    )
    assert code == 0
    for split in ("train", "test"):
        s = json.loads(text)["result"]["splits"][split]
        grid = s["path"]["barriers"]["loss"]["above_chord"]
        sup, endpoint = (
            s["over_segment"]["certified_sup"]["loss"],
            s["over_segment"]["endpoint_bound"]["upper"],
        )
        assert grid - 1e-5 <= sup["lower"] <= sup["upper"] and sup["lower"] <= endpoint + 1e-9
        assert (
            s["over_segment"]["certified_sup"]["error"]["upper"]
            >= s["path"]["barriers"]["error"]["above_chord"] - 1e-9
        )
    # the same checkpoints through `align` (built-in models: rebuilt from the sidecars, no --model)
    code, text, _ = run_cli(
        "align", str(out / "model_a.pt"), str(out / "model_b.pt"), "--points", "3", "--json"
    )
    assert code == 0
    doc = json.loads(text)
    assert doc["result"]["spec_source"] == "the model's permutation_spec()"
    assert (out / "model_b.aligned.pt").exists()
    assert len(doc["result"]["paths"]["aligned"]["values"]["loss"]) == 3


@pytest.mark.parametrize(
    "argv,match",
    [
        (["train", "--widths", "10,32,10", "--out-dir", "x"], "must start with the input size 64"),
        (["train", "--pair", "same-init", "--seeds", "0", "--out-dir", "x"], "two --seeds"),
        (["train", "--seeds", "-1", "--out-dir", "x"], "--seeds must be integers >= 0"),
        (["train", "--data", "idx", "--out-dir", "x"], "needs --data-path"),
        (["barrier", "/nonexistent/a.pt", "/nonexistent/b.pt"], "needs a.pt and a.json"),
    ],
)
def test_train_and_barrier_errors(argv, match):
    code, _, err = run_cli(*argv)
    assert code == 2 and match in err


def test_cli_choices_equal_the_library_lists():
    """The CLI writes its choices out (so that --help imports no numerical library): they must stay the
    library's."""
    from lmctheory.cli import names
    from lmctheory.dimension import ESTIMATORS
    from lmctheory.nn import DATASETS
    from lmctheory.ot import METHODS
    from lmctheory.rates import LAW_NAMES

    assert names.LAWS == tuple(LAW_NAMES) and names.METHODS == tuple(METHODS)
    assert names.ESTIMATORS == tuple(ESTIMATORS) and names.DATASETS == tuple(DATASETS)


def test_help_and_version_import_no_numerical_library():
    import subprocess
    import sys

    code = (
        "import sys, io, contextlib\nfrom lmctheory.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])\n"
        "heavy = [m for m in ('torch', 'sklearn', 'scipy', 'sympy', 'numpy', 'matplotlib') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.strip() == "[]", out


# ------------------------------------------------ cases of the adversarial review of acd35e6


def test_a_one_row_csv_is_one_point(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 11: A one-row csv is one point."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    (tmp / "one.csv").write_text("1,2,3\n")
    (tmp / "one2.csv").write_text("4,5,6\n")
    assert value_line(run_cli("wasserstein", tmp / "one.csv", tmp / "one2.csv"), "W_2") == pytest.approx(
        27**0.5
    )


def test_an_arithmetic_ns_of_1e12_sizes_is_refused_before_any_work(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 25: An arithmetic --ns of 1e12 sizes."""
    monkeypatch.chdir(tmp_path)
    one_line_error(run_cli("rates", "--d", "2", "--ns", "1,2,...,1000000000000", "--reps", "2"), 2, "--ns")


def test_sliced_w_with_1e9_directions_is_refused_before_any_work(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 28: Sliced W with 1e9 directions."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    x = np_save(tmp / "x.npy", np.random.default_rng(0).random((50, 3)))
    one_line_error(run_cli("wasserstein", x, x, "--sliced", "1000000000"), 1, "directions")


def test_dimension_benchmark_with_huge_sizes_is_refused_before_any_work(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 29: Dimension benchmark with huge sizes."""
    monkeypatch.chdir(tmp_path)
    one_line_error(run_cli("dimension", "--benchmark", "--ns", "100", "--Ds", "1000000000"), 1, "GiB")


def test_a_broken_pipe_ends_quietly_with_exit_0(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 49: A broken pipe was a usage error."""
    monkeypatch.chdir(tmp_path)
    proc = subprocess.run(
        f"{sys.executable} -m lmctheory.cli bounds --epsilon 0.1 --m0 784 --depth 3 --json | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stderr == ""


def test_an_empty_csv_is_one_line(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 50: An empty csv printed three lines."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    (tmp / "empty.csv").write_text("")
    x = np_save(tmp / "x.npy", [[0.0, 1.0]])
    one_line_error(run_cli("wasserstein", tmp / "empty.csv", x), 2, "empty")


def test_a_negative_seed_names_the_option(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 51: A negative seed's message named no option."""
    monkeypatch.chdir(tmp_path)
    one_line_error(run_cli("rates", "--d", "2", "--ns", "8,16", "--reps", "2", "--seed", "-1"), 2, "--seed")


def test_huge_ns_values_are_refused_naming_the_option(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 52: Huge --ns values."""
    monkeypatch.chdir(tmp_path)
    one_line_error(run_cli("rates", "--d", "2", "--ns", "1e30,2e30"), 2, "too large")
    one_line_error(run_cli("rate-bound", "--d", "5", "--ns", "1e300"), 2, "too large")


def test_a_bad_max_bytes_variable_names_the_variable(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 54: A bad LMCTHEORY_MAX_BYTES."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    x = np_save(tmp / "x.npy", np.random.default_rng(0).random((5, 2)))
    for bad in ("abc", "nan", "-1"):
        one_line_error(
            run_cli("wasserstein", x, x, env={"LMCTHEORY_MAX_BYTES": bad}), 2, "LMCTHEORY_MAX_BYTES"
        )


def test_out_to_an_unwritable_location_is_one_line(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 55: --out to an unwritable location."""
    monkeypatch.chdir(tmp_path)
    one_line_error(run_cli("rate-bound", "--d", "5", "--out", "/proc/version"), 2, "/proc/version")


def test_barrier_uses_the_dataset_saved_with_the_checkpoints(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row R1: Barrier ignored the dataset saved with the checkpoints."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    a, b = checkpoint_pair(tmp, data="mnist1d", widths="40,16,10")
    code, out, err = run_cli("barrier", a, b, "--points", "3")
    assert code == 0 and "[test] loss" in out, err


# ------------------------------------------------ regressions found in the review of acd35e6


def test_usage_errors_exit_2():
    """Review of acd35e6: fails on that commit's behaviour."""
    assert run_cli("rates", "--ns", "0")[0] == 2
    assert run_cli("validate", "--only", "nosuch")[0] == 2


def test_runtime_failures_exit_1(tmp_path):
    """Review of acd35e6: fails on that commit's behaviour."""
    code, out, err = run_cli(
        "validate", "--smoke", "--only", "depth", "--cached-only", "--quiet", "--out", str(tmp_path)
    )
    assert code == 1 and out == "" and "no current record" in err and len(err.strip().splitlines()) == 1


def test_an_internal_error_is_one_line_and_debug_shows_the_traceback(monkeypatch):
    """Review of acd35e6: fails on that commit's behaviour."""
    import lmctheory.cli.theory as theory

    def boom(args):
        raise AttributeError("planted bug")

    monkeypatch.setattr(theory, "cmd_rate_bound", boom)
    code, out, err = run_cli("rate-bound", "--d", "5")
    assert code == 1 and out == "" and "internal error" in err and "planted bug" in err and "--debug" in err
    assert len(err.strip().splitlines()) == 1
    code, out, err = run_cli("--debug", "rate-bound", "--d", "5")
    assert code == 1 and "Traceback" in err and "planted bug" in err


def test_interrupt_exits_130_with_one_line(monkeypatch):
    """Review of acd35e6: fails on that commit's behaviour."""
    import lmctheory_paper._validate_cli as validate

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(validate, "cmd_validate", interrupted)
    code, out, err = run_cli("validate", "--smoke", "--only", "depth")
    assert code == 130 and len(err.strip().splitlines()) == 1 and "interrupted" in err


def test_broken_pipe_ends_quietly():
    """Review of acd35e6: fails on that commit's behaviour."""
    proc = subprocess.run(
        f"{sys.executable} -m lmctheory.cli bounds --epsilon 0.1 --m0 784 --depth 3 --json | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stderr == "" and len(proc.stdout) == 10


def test_abbreviated_options_are_refused(tmp_path):
    """Review of acd35e6: fails on that commit's behaviour."""
    code, _, err = run_cli(
        "rates", "--d", "2", "--ns", "8,16", "--reps", "2", "--plo", str(tmp_path / "p.png")
    )
    assert code == 2 and "--plo" in err and not list(tmp_path.iterdir())


def test_a_value_error_of_the_computation_is_a_runtime_failure_not_a_usage_error(monkeypatch):
    """Exit 2 only for what the argument validation finds; the same exception type raised by the computation
    after it (here planted in the rate study) exits 1, one line, no traceback."""
    import lmctheory.rates

    def failing(*args, **kwargs):
        raise ValueError("a numerical failure of the computation")

    monkeypatch.setattr(lmctheory.rates, "rate_report", failing)
    code, out, err = run_cli("rates", "--d", "3", "--ns", "8,16,32", "--reps", "2")
    assert (
        code == 1
        and out == ""
        and err.strip().splitlines() == ["lmctheory rates: error: a numerical failure of the computation"]
    )
    code, _, err = run_cli("rates", "--d", "3", "--ns", "8,16,32", "--reps", "0")  # validation: usage
    assert code == 2 and "reps must be" in err
