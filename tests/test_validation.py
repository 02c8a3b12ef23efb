"""Validation layer: rows and verdicts, report files, caching, baseline regressions, Dask == local."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from lmctheory_paper.validation import EXPERIMENTS
from lmctheory_paper.validation.report import compare_to_baseline

from tests.conftest import run_cli
from tests.helpers import depth_smoke, one_line_error, write_idx


def test_smoke_validation_json_report_and_cache(tmp_path):
    out = tmp_path / "res"
    code, text, _ = run_cli(
        "validate", "--smoke", "--only", "rates,two_layer", "--out-dir", str(out), "--json"
    )
    assert code == 0
    doc = json.loads(text)
    rows = doc["rows"]
    assert rows and all(r["verdict"] in ("holds", "fails", "inconclusive", "reported") for r in rows)
    assert all((r["kind"] == "measurement") == (r["verdict"] == "reported") for r in rows)
    bound_rows = [r for r in rows if "explicit bound" in r["prediction"]]
    assert bound_rows and all(r["verdict"] == "holds" and r["kind"] == "check" for r in bound_rows)
    sharp = [r for r in rows if "uniform d=5" in r["prediction"] and "slope" in r["prediction"]]
    bias = sharp[0]["details"]["finite_n_bias"]  # calibrated on d = 6
    assert sharp[0]["details"]["calibration_dimensions"] == [6] and -0.1 < bias < 0.05
    assert (
        sharp[0]["kind"] == "prediction"
        and sharp[0]["predicted"] == pytest.approx(-0.2 + bias)
        and sharp[0]["rules_out"] == pytest.approx([-0.25 + bias, -1 / 6 + bias])
        and sharp[0]["fails_if"]
    )
    assert sharp[0]["n_seeds"] == 3  # one replicate curve per unit: 1 seed x 3 reps
    not_sharp = [r for r in rows if "uniform d=1" in r["prediction"] and "slope" in r["prediction"]]
    assert not_sharp[0]["kind"] == "measurement"  # d <= 2p: the FG rate is not sharp, no claim
    md = (out / "validation.md").read_text()
    assert sum(
        md.count(f"| {name} | {kind} |")
        for name in EXPERIMENTS
        for kind in ("prediction", "check", "measurement")
    ) == len(rows)
    assert {r["experiment"] for r in rows} == {"rates", "two_layer"}
    # same seeds -> identical results; finished configs are cached
    code, text2, _ = run_cli(
        "validate",
        "--smoke",
        "--only",
        "rates,two_layer",
        "--out-dir",
        str(tmp_path / "again"),
        "--json",
    )
    assert [r["measured"] for r in json.loads(text2)["rows"]] == [r["measured"] for r in rows]
    cached = EXPERIMENTS["rates"].run("smoke", str(out), progress=False)
    assert [r.measured for r in cached] == [r["measured"] for r in rows if r["experiment"] == "rates"]


def test_baseline_regressions_exit_non_zero(tmp_path):
    out = tmp_path / "res"
    run_cli("validate", "--smoke", "--only", "rates,two_layer", "--out-dir", str(out))
    baseline = json.loads((out / "validation.json").read_text())
    assert compare_to_baseline(baseline["rows"], baseline["rows"]) == []
    baseline["rows"][0]["measured"] += 1.0  # the current run now leaves the baseline band
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(baseline))
    code, _, err = run_cli(
        "validate",
        "--smoke",
        "--only",
        "rates,two_layer",
        "--out-dir",
        str(out),
        "--baseline",
        str(path),
    )
    assert code == 1 and "outside the baseline band" in err and baseline["rows"][0]["prediction"] in err
    flipped = [dict(r, verdict="fails") if i == 1 else r for i, r in enumerate(baseline["rows"])]
    assert any("holds -> fails" in p for p in compare_to_baseline(flipped, baseline["rows"]))


@pytest.mark.parametrize("experiment", ["rates", "depth"])  # numpy-only and torch experiments
def test_dask_gives_the_same_rows_as_local(tmp_path, experiment):
    pytest.importorskip("dask.distributed")
    local = EXPERIMENTS[experiment].run("smoke", str(tmp_path / "a"), progress=False)
    dask = EXPERIMENTS[experiment].run("smoke", str(tmp_path / "b"), progress=False, dask_local=2)
    assert [(r.prediction, r.measured) for r in local] == [(r.prediction, r.measured) for r in dask]


@pytest.mark.parametrize(
    "argv,match",
    [
        (["validate", "--only", "nosuchexp"], "unknown experiment"),
        (["validate", "--only", ","], "unknown experiment"),
        (["validate", "--only", "rates", "--data", "digits"], "--data is used by"),
        (["validate", "--only", "fig2", "--data", "idx:/no/such"], "no such directory"),
        (["validate", "--only", "fig2", "--data", "nosuch"], "unknown dataset"),
    ],
)
def test_validate_errors(argv, match):
    code, out, err = run_cli(*argv)
    assert code == 2 and out == "" and match in err


def test_two_layer_smoke_exact_verdicts(tmp_path):
    rows = EXPERIMENTS["two_layer"].run("smoke", str(tmp_path), progress=False)
    checks = [r for r in rows if r.kind == "check"]  # certificate, endpoint bound, explicit lower bound
    assert len(checks) == 3 and all(r.verdict == "holds" for r in checks)
    endpoint = next(r for r in rows if "endpoint bound," in r.prediction and r.kind == "check")
    assert endpoint.n_seeds == 4  # one value per (seed, width): 4 widths
    vacuous = next(r for r in rows if "explicit upper bound" in r.prediction)  # bound above the diameter
    assert vacuous.kind == "measurement" and "diameter" in vacuous.prediction
    slope = next(r for r in rows if r.prediction.startswith("matching error slope"))
    assert slope.kind == "measurement" and "calibrate" in slope.rule  # one D: no finite-N bias calibration
    assert slope.n_seeds == 1
    assert not any("width needed" in r.prediction or "exponent of the width" in r.prediction for r in rows)


def _rows(experiment, tmp_path, preset="smoke", **kw):
    return EXPERIMENTS[experiment].run(preset, str(tmp_path), progress=False, **kw)


def _verdicts(rows, text):
    return [r.verdict for r in rows if text in r.prediction]


def test_low_dim_smoke(tmp_path):
    rows = _rows("low_dim", tmp_path)
    small = next(r for r in rows if r.prediction.startswith("matching error slope for N <="))
    assert small.kind == "measurement" and small.n_seeds == 2  # eta > 0: the eta term is not negligible
    share = float(small.rule.split("= ")[1].split("%")[0]) / 100
    floor = small.details["floor_width (c/eta)^k"]
    assert share == pytest.approx((256 / floor) ** (1 / 3), abs=0.006)
    assert [r.kind for r in rows if "flattens" in r.prediction] == ["prediction"]


def test_depth_smoke_bounds_exact_and_same_seed_identical(tmp_path):
    rows = _rows("depth", tmp_path / "a")
    certified = [r for r in rows if "certified" in r.prediction and "grows" not in r.prediction]
    assert len(certified) == 3 and all(r.verdict == "holds" and r.kind == "check" for r in certified)
    assert not any(r.prediction.startswith("loss barrier") for r in rows)  # 0 <= bound at init: cannot fail
    assert _verdicts(rows, "defect grows with depth") == ["holds"]  # 2 seeds x 3 depths: p = 1/36
    assert [r.kind for r in rows if r.prediction.startswith("certified bound grows")] == ["check"]
    again = _rows("depth", tmp_path / "b")
    assert [(r.prediction, r.measured, r.measured_std) for r in rows] == [
        (r.prediction, r.measured, r.measured_std) for r in again
    ]


def test_mean_field_smoke(tmp_path):
    rows = _rows("mean_field", tmp_path / "a")
    assert _verdicts(rows, "certified bound") == ["holds"]
    slope = next(r for r in rows if "matching error slope" in r.prediction)
    assert -0.25 < slope.predicted < -0.15  # -1/D_hat with D_hat near m0 + 1 = 6
    again = _rows("mean_field", tmp_path / "b")
    assert [r.measured for r in rows] == [r.measured for r in again]


def test_fig2_smoke_planted_permutation_and_rows(tmp_path):
    rows = _rows("fig2", tmp_path / "a")
    assert _verdicts(rows, "planted permutation") == ["holds"]
    assert [r.measured for r in rows] == [r.measured for r in _rows("fig2", tmp_path / "b")]  # same seeds
    assert len([r for r in rows if r.prediction.startswith("approximate dimension")]) == 4
    assert all(r.verdict in ("holds", "fails", "inconclusive", "reported") for r in rows)


def test_disentangle_smoke_logistic_is_exactly_connected(tmp_path):
    rows = _rows("disentangle", tmp_path)
    logistic = [r for r in rows if r.prediction.startswith("logistic regression")]
    assert len(logistic) == 2 and all(r.verdict == "holds" for r in logistic)
    # every architecture is either reported with its barrier or listed as not trained (attention does
    # not learn in the smoke preset's 3 epochs), never silently dropped
    reported = {
        r.prediction.split(" (")[0].removeprefix("error barrier, ")
        for r in rows
        if r.prediction.startswith("error barrier,")
    }
    untrained = [r for r in rows if r.prediction.startswith("variants not trained")]
    left_out = set(untrained[0].details["accuracy"]) if untrained else set()
    assert {"cnn", "lcn"} <= reported and reported | left_out == {"attention", "cnn", "lcn"}
    assert not reported & left_out
    assert all("test accuracy" in r.prediction for r in rows if r.prediction.startswith("error barrier,"))


def _tiny_mnist(root, rng):
    for stem, n in (("train", 120), ("t10k", 40)):
        labels = rng.integers(0, 3, n).astype(np.uint8)
        images = (rng.integers(0, 60, (n, 6, 6)) + 60 * labels[:, None, None]).astype(np.uint8)
        write_idx(root / f"{stem}-images-idx3-ubyte", images)
        write_idx(root / f"{stem}-labels-idx1-ubyte", labels)


def test_fig2_runs_on_user_idx_files(tmp_path):
    data = tmp_path / "mnist"
    data.mkdir()
    _tiny_mnist(data, np.random.default_rng(0))
    code, text, _ = run_cli(
        "validate",
        "--smoke",
        "--only",
        "fig2",
        "--data",
        f"idx:{data}",
        "--out-dir",
        str(tmp_path / "out"),
        "--json",
    )
    assert code == 0
    doc = json.loads(text)
    assert doc["config"]["data"] == [f"idx:{data}"]
    assert all(f"idx:{data}" in r["prediction"] for r in doc["rows"])
    assert [r["verdict"] for r in doc["rows"] if "planted" in r["prediction"]] == ["holds"]


def test_disentangle_user_data_joins_the_ladder():
    configs = EXPERIMENTS["disentangle"].configs_for("quick", ["idx:/data/mnist"])
    base = EXPERIMENTS["disentangle"].configs_for("quick", None)
    added = [c for c in configs if c not in base]
    assert {c["data"] for c in added} == {"idx:/data/mnist"} and len(added) == len({c["seed"] for c in base})
    fig2 = EXPERIMENTS["fig2"].configs_for("quick", ["npz:/f.npz"])
    assert {c["data"] for c in fig2} == {"npz:/f.npz"} and len(fig2) == len(
        EXPERIMENTS["fig2"].PRESETS["quick"]
    ) // 2


def test_direction_rule_and_spearman():
    from lmctheory_paper.validation.report import direction, spearman

    assert direction("e", "p", "f", [0.3, 0.35, 0.4], fails_if="x").verdict == "holds"
    assert direction("e", "p", "f", [-0.3, -0.35, -0.4], fails_if="x").verdict == "fails"
    assert direction("e", "p", "f", [-0.3, 0.4, 0.1], fails_if="x").verdict == "inconclusive"
    assert direction("e", "p", "f", [-0.3, -0.35], sense="<", fails_if="x").verdict == "holds"
    with pytest.raises(ValueError, match="sense"):
        direction("e", "p", "f", [1.0], sense=">=", fails_if="x")
    with pytest.raises(ValueError, match="must say which outcome"):
        direction("e", "p", "f", [1.0, 2.0])  # a prediction row without its failing outcome
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [5, 5, 5]) == 0.0


@pytest.mark.slow
def test_quick_presets_of_every_experiment(tmp_path):
    """The quick preset of all experiments: >= 20 rows and every exact prediction holds."""
    import time

    start = time.perf_counter()
    code, text, _ = run_cli("validate", "--quick", "--out-dir", str(tmp_path), "--json")
    seconds = time.perf_counter() - start
    rows = json.loads(text)["rows"]
    print(
        f"\nquick presets of {len(EXPERIMENTS)} experiments: {len(rows)} rows in {seconds:.0f} s; "
        + str({v: sum(r["verdict"] == v for r in rows) for v in ("holds", "fails", "inconclusive")})
    )
    assert code == 0 and len(rows) >= 20 and {r["experiment"] for r in rows} == set(EXPERIMENTS)
    checks = [r for r in rows if r["kind"] == "check"]
    assert len(checks) >= 20 and all(r["verdict"] == "holds" for r in checks), [
        r["prediction"] for r in checks if r["verdict"] != "holds"
    ]


def test_validate_runs_from_any_directory_with_out_dir(tmp_path):
    """The installed command, from a directory outside the repository; --out DIR holds the report."""
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lmctheory.cli",
            "validate",
            "--smoke",
            "--only",
            "depth",
            "--out",
            "report",
            "--json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["rows"] and (tmp_path / "report" / "validation.md").is_file()
    assert json.loads((tmp_path / "report" / "validation.json").read_text())["rows"] == doc["rows"]


def test_fig2_excludes_diverged_pairs_and_counts_them():
    fig2 = EXPERIMENTS["fig2"]

    def rec(pair, diverged, scale):
        errors = {
            m: scale * (1 + i) for i, m in enumerate(("none", "naive", "full", "weighted", "activation"))
        }
        dims = {m: 10.0 * (1 + i) for i, m in enumerate(("naive", "full", "weighted", "activation"))}
        return {
            "config": {"kind": "pair", "data": "digits", "hidden": 8, "lr": 1e-3, "pair": pair},
            "result": {"diverged": [diverged, False], "lmc_error": errors, "dimension": dims},
        }

    rows = fig2.rows_from([rec(0, False, 1.0), rec(1, False, 1.0), rec(2, True, 1e6)])
    count = [r for r in rows if r.prediction.startswith("pairs with a diverged run")]
    assert len(count) == 1 and count[0].measured == 1 and count[0].details["learning_rates"] == [1e-3]
    weighted = next(r for r in rows if r.prediction.startswith("weighted WM beats naive"))
    assert weighted.n_seeds == 2 and weighted.measured == pytest.approx(np.log(2 / 4))


def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    """Each configuration runs with one intra-op thread whatever the number of workers: the records of
    fig2's smoke preset (training, matching, paths) are identical with 1 and 2 worker processes."""
    from lmctheory.runs import load_results

    EXPERIMENTS["fig2"].run("smoke", str(tmp_path / "one"), progress=False)
    EXPERIMENTS["fig2"].run("smoke", str(tmp_path / "two"), progress=False, n_jobs=2)
    one, two = (
        sorted(load_results(tmp_path / d / "fig2-smoke"), key=lambda r: r["hash"]) for d in ("one", "two")
    )
    assert len(one) == len(two) == len(EXPERIMENTS["fig2"].PRESETS["smoke"])
    assert [r["result"] for r in one] == [r["result"] for r in two]
    assert all(r["threads"] == 1 for r in one + two)


def test_fig2_leaves_out_pairs_that_never_learned():
    fig2 = EXPERIMENTS["fig2"]

    def rec(pair, accuracy):
        errors = {
            m: 1.0 + 0.1 * i + 0.01 * pair
            for i, m in enumerate(("none", "naive", "full", "weighted", "activation"))
        }
        dims = {m: 10.0 * (1 + i) for i, m in enumerate(("naive", "full", "weighted", "activation"))}
        return {
            "config": {"kind": "pair", "data": "digits", "hidden": 8, "lr": 1e-3, "pair": pair},
            "result": {
                "diverged": [False, False],
                "lmc_error": errors,
                "dimension": dims,
                "endpoint_accuracy": [accuracy, 0.9],
                "n_classes": 10,
            },
        }

    rows = fig2.rows_from([rec(0, 0.9), rec(1, 0.9), rec(2, 0.15)])  # pair 2: 1.5x chance on one endpoint
    count = next(r for r in rows if r.prediction.startswith("pairs not trained"))
    assert count.measured == 1 and count.details["learning_rates"] == [1e-3]
    assert next(r for r in rows if r.prediction.startswith("weighted WM beats naive")).n_seeds == 2


def test_inconclusive_rows_say_how_many_values_would_decide_them():
    from lmctheory_paper.validation.report import direction, markdown_table

    row = direction("e", "p", "f", [0.01, -0.005, 0.02], fails_if="x")
    assert row.verdict == "inconclusive" and row.statistic["values_to_decide"] > 3
    assert "independent values (now 3) would decide it" in markdown_table([row])[-1]


def test_verdict_differences_between_presets_are_counted_in_the_summary_and_listed_apart():
    from lmctheory_paper.validation.report import direction
    from lmctheory_paper.validation.summary import differences_markdown, summary_markdown

    base = np.array([-1.0, 0.0, 1.0, 0.5])
    quick = [direction("demo", "gain", "g > 0", base, fails_if="g <= 0").to_dict()]
    full = [direction("demo", "gain", "g > 0", base + 5.0, fails_if="g <= 0").to_dict()]
    assert "differs between the presets: 1 (0 rows only in quick, 0 only in full" in summary_markdown(
        quick, full
    )
    listed = differences_markdown(quick, full)
    assert "| demo | gain | inconclusive: 0.125" in listed and "| holds: 5.12" in listed
    assert differences_markdown(full, full).startswith("No row has a different verdict")


def test_borderline_rows_are_flagged_in_the_report_and_the_readme_summary():
    from lmctheory_paper.validation.report import direction, markdown_table
    from lmctheory_paper.validation.summary import borderline_rows, summary_markdown
    from scipy import stats

    # five values whose one-sided t-test gives p = 0.04: "holds" at 5 %, not at 2.5 %
    base = np.array([-1.5, -0.5, 0.0, 0.5, 1.5])
    base = base / base.std(ddof=1)
    mean = stats.t.isf(0.04, 4) / np.sqrt(5)
    edge = direction("demo", "edge", "mean > 0", base + mean, sense=">", fails_if="mean <= 0")
    clear = direction("demo", "clear", "mean > 0", base + 3.0, sense=">", fails_if="mean <= 0")
    assert edge.verdict == "holds" and edge.borderline and not clear.borderline
    assert edge.to_dict()["borderline"] is True
    assert (
        "holds (borderline)" in markdown_table([edge])[-1]
        and "(borderline)" not in markdown_table([clear])[-1]
    )
    rows = [edge.to_dict(), clear.to_dict()]
    assert "| edge | 1 |" not in summary_markdown(rows, rows)  # the README's table counts them per experiment
    assert "| **all** | quick | 2 | 2 | 2 | 0 | 0 | 1 |" in summary_markdown(rows, rows)  # both rule out 0
    text = "\n".join(borderline_rows(rows, rows))  # the docs list them
    assert "Borderline prediction rows (2)" in text and "| demo | edge | quick | holds | 0.04 |" in text


def test_validate_only_keeps_the_earlier_rows_of_the_experiments_not_run(tmp_path):
    out = tmp_path / "res"
    run_cli("validate", "--smoke", "--only", "rates", "--out-dir", str(out))
    first = json.loads((out / "validation.json").read_text())["rows"]
    code, text, _ = run_cli("validate", "--smoke", "--only", "two_layer", "--out-dir", str(out))
    rows = json.loads((out / "validation.json").read_text())["rows"]
    assert code == 0 and "keeps the earlier rows of rates" in text
    assert [r for r in rows if r["experiment"] == "rates"] == first
    assert any(r["experiment"] == "two_layer" for r in rows)


def test_validate_says_how_its_records_and_verdicts_differ_from_the_committed_ones(
    capsys, tmp_path, monkeypatch
):
    import shutil

    from lmctheory_paper import _validate_cli as cli_validate

    out, committed = tmp_path / "run", tmp_path / "committed"
    run_cli("validate", "--smoke", "--only", "depth", "--out-dir", str(out))
    shutil.copytree(out / "depth-smoke", committed / "depth-smoke")
    files = sorted((committed / "depth-smoke").glob("*.json"))
    # one committed record a rounding-level step away (within the cross-machine tolerance), one far away
    # with every matched defect above the unmatched one (the "matching lowers the defect" rows turn)
    near, far = json.loads(files[0].read_text()), json.loads(files[1].read_text())
    from lmctheory.runs._rerun import reproduction_tolerance

    near["result"]["defect_bound"][0] *= 1 + reproduction_tolerance(near)[0] / 2
    far["result"]["defect_matched"] = [10.0 * v for v in far["result"]["defect_unmatched"]]
    files[0].write_text(json.dumps(near))
    files[1].write_text(json.dumps(far))
    monkeypatch.setattr(cli_validate, "_shipped_records", lambda: [committed])
    code, text, _ = run_cli("validate", "--smoke", "--only", "depth", "--out-dir", str(out))
    assert code == 0
    assert (
        f"depth: {len(files)} configurations also committed: {len(files) - 2} bit for bit, 1 within" in text
    )
    assert "1 beyond it" in text and f"{far['hash']}: result.defect_matched[0]" in text
    assert (
        "verdict differs: matching lowers the midpoint defect, depth 2, m0=5, width 64: committed inconclusive, now holds"
        in text
    )
    report = json.loads((out / "validation.json").read_text())["result"]["committed"]["depth"]
    assert report["identical"] == len(files) - 2 and report["within_tolerance"] == 1
    assert "Differences from the committed records" in (out / "validation.md").read_text()


# ------------------------------------------------ cases of the adversarial review of acd35e6


def test_an_experiment_named_twice_runs_once(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 19: --only depth,depth doubles every row."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    rows = depth_smoke(tmp, "--only", "depth,depth")
    assert len({r["prediction"] for r in rows}) == len(rows)


@pytest.mark.slow
def test_ctrl_c_during_validate_exits_130_with_records_intact(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 38: Ctrl-C during validate: one line, exit 130, records intact."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lmctheory.cli",
            "validate",
            "--full",  # the quick preset may finish between the first record and the signal
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
    while not list((tmp / "sigint").glob("rates-full/*.json")) and time.time() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "validate finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for record in (tmp / "sigint").glob("rates-full/*.json"):
        json.loads(record.read_text())  # no half-written record


def test_dask_local_zero_is_a_usage_error_not_a_hang(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 39: --dask-local 0 hung."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    one_line_error(
        run_cli("validate", "--smoke", "--only", "depth", "--out", tmp / "o", "--dask-local", "0"),
        2,
        "--dask-local",
    )


def test_bad_data_values_fail_before_any_work(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 40: Bad --data values passed the fail-fast check and exit 0."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    for spec in (
        "teacher:hidden=-1",
        "teacher:classes=0",
        "teacher:task=regression",
        "teacher:seed=-1",
        "teacher:n_train=1.5",
        "gaussian_mixture:d=1e400",
        "digits:seed=abc",
    ):
        one_line_error(
            run_cli("validate", "--smoke", "--only", "fig2", "--out", tmp / "o", "--data", spec), 2
        )
    assert not (tmp / "o").exists()


def test_the_baseline_is_read_before_any_experiment_runs(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 41: --baseline read only after every experiment ran."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    one_line_error(
        run_cli(
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


def test_a_malformed_baseline_is_one_line(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 42: Malformed --baseline."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    for content in (b'{"rows":[{"experiment":"rates"}]}', b"[1,2]", b"\xff\xfe"):
        (tmp / "b.json").write_bytes(content)
        one_line_error(
            run_cli(
                "validate", "--smoke", "--only", "depth", "--out", tmp / "o", "--baseline", tmp / "b.json"
            ),
            2,
            "b.json",
        )


def test_figures_only_one_runs_only_its_experiments(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 61: Figures --only 1 ran every other experiment."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    from lmctheory_paper.figures._common import RUNS

    RUNS.clear()
    assert run_cli("figures", "--smoke", "--only", "1", "--no-cache", "--out", tmp / "f", "--quiet")[0] == 0
    assert {name for name, ran, _ in RUNS if ran} == {"rates"}


def test_validate_only_keeps_the_other_experiments_rows_in_the_report(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row R5: Validate --only X --out DIR replaced DIR's report."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    depth_smoke(tmp, "--only", "depth,two_layer")
    depth_smoke(tmp)
    rows = json.loads((tmp / "validation.json").read_text())["rows"]
    assert {r["experiment"] for r in rows} == {"depth", "two_layer"}


# ------------------------------------------------ regressions found in the review of acd35e6


def test_baseline_comparison_with_a_failed_configuration(tmp_path):
    """Review of acd35e6: fails on that commit's behaviour."""
    from lmctheory_paper.validation.report import compare_to_baseline, failed_rows

    failed = failed_rows(
        "depth", [{"status": "failed", "config": {"x": 1}, "error": {"type": "E", "message": "m"}}]
    )
    rows = [r.to_dict() for r in failed]
    baseline = [dict(rows[0], verdict="holds", measured=0.5, measured_std=0.1, n_seeds=2)]
    assert compare_to_baseline(rows, baseline) == [f"depth: {rows[0]['prediction']}: verdict holds -> fails"]
    assert compare_to_baseline(baseline, rows) == []  # a NaN baseline value compares by verdict only
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"rows": rows}))
    code, _, err = run_cli(
        "validate",
        "--smoke",
        "--only",
        "depth",
        "--out",
        str(tmp_path / "o"),
        "--baseline",
        str(path),
    )
    assert code == 0, err


def test_only_with_a_repeated_name_runs_it_once(tmp_path):
    """Review of acd35e6: fails on that commit's behaviour."""
    code, out, _ = run_cli("validate", "--smoke", "--only", "depth,depth", "--out", str(tmp_path), "--json")
    rows = json.loads(out)["rows"]
    assert code == 0 and len({r["prediction"] for r in rows}) == len(rows)


def test_only_keeps_the_other_experiments_rows_of_the_report(tmp_path):
    """Review of acd35e6: fails on that commit's behaviour."""
    run_cli("validate", "--smoke", "--only", "depth,two_layer", "--out", str(tmp_path))
    code, out, _ = run_cli("validate", "--smoke", "--only", "depth", "--out", str(tmp_path))
    rows = json.loads((tmp_path / "validation.json").read_text())["rows"]
    assert (
        code == 0
        and {r["experiment"] for r in rows} == {"depth", "two_layer"}
        and "keeps the earlier rows" in out
    )


def test_a_bad_baseline_is_reported_before_any_work(tmp_path):
    """Review of acd35e6: fails on that commit's behaviour."""
    bad = tmp_path / "b.json"
    for content, match in (
        (b"\xff\xfe", "not a JSON"),
        (b"[1, 2]", "not a validation.json"),
        (b'{"rows": [{"experiment": "rates"}]}', "not a validation.json"),
    ):
        bad.write_bytes(content)
        code, _, err = run_cli(
            "validate",
            "--smoke",
            "--only",
            "depth",
            "--out",
            str(tmp_path / "o"),
            "--baseline",
            str(bad),
        )
        assert code == 2 and match in err and str(bad) in err
        assert not (tmp_path / "o").exists()  # nothing ran
    code, _, err = run_cli(
        "validate",
        "--smoke",
        "--only",
        "depth",
        "--out",
        str(tmp_path / "o"),
        "--baseline",
        "/nonexistent/baseline.json",
    )
    assert code == 2 and not (tmp_path / "o").exists()


@pytest.mark.parametrize("option", [["--dask-local", "0"], ["--dask-local", "-1"], ["--n-jobs", "0"]])
def test_bad_parallel_options_fail_before_any_work(tmp_path, option):
    """Review of acd35e6: fails on that commit's behaviour."""
    code, _, err = run_cli("validate", "--smoke", "--only", "depth", "--out", str(tmp_path / "o"), *option)
    assert code == 2 and option[0] in err and not (tmp_path / "o").exists()


@pytest.mark.parametrize("spec", ["teacher:hidden=-1", "teacher:task=regression", "digits:seed=abc"])
def test_bad_data_specs_fail_before_any_work(tmp_path, spec):
    """Review of acd35e6: fails on that commit's behaviour."""
    code, _, err = run_cli(
        "validate", "--smoke", "--only", "fig2", "--out", str(tmp_path / "o"), "--data", spec
    )
    assert code == 2 and not (tmp_path / "o").exists(), err
