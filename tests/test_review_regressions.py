"""Bugs and claims found in review of acd35e6: each test fails on that commit's behaviour."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("spec", ["digits:sead=1", "mnist1d:sed=3", "teacher:hiden=4"])
def test_dataset_loaders_reject_unknown_keywords(spec):
    from lmctheory.nn import load_dataset, load_dataset_spec, parse_dataset_spec

    name, _, rest = spec.partition(":")
    key, _, value = rest.partition("=")
    with pytest.raises(ValueError, match=f"unknown keyword.*'{key}'"):
        load_dataset(name, **{key: int(value)})  # the Python API, not only the spec parser
    with pytest.raises(ValueError, match="unknown keyword"):
        parse_dataset_spec(spec)
    with pytest.raises(ValueError, match="unknown keyword"):
        load_dataset_spec(spec)


@pytest.mark.parametrize(
    "spec,match",
    [
        ("teacher:hidden=-1", "hidden"),
        ("teacher:classes=0", "classes"),
        ("teacher:seed=-1", "seed"),
        ("teacher:n_train=1.5", "n_train"),
        ("teacher:n_train=1000000000", "floats"),
        ("digits:seed=abc", "seed"),
        ("gaussian_mixture:d=1e400", "d must"),
        ("teacher:classes=1000000", "floats"),
    ],
)
def test_dataset_keyword_values_are_checked(spec, match):
    from lmctheory.nn import load_dataset_spec

    with pytest.raises((ValueError, TypeError), match=match):
        load_dataset_spec(spec)


def test_power_of_with_a_negative_base_is_tiny_not_huge():
    from lmctheory.bounds import Tower, power_of

    assert power_of(-1e10, Tower(0, 1e300)) == Tower(0, 0.0)  # 10^(-1e310): below every float
    assert power_of(-1.0, Tower(0, 2.0)).value == pytest.approx(0.01)
    assert power_of(-0.5, Tower(3, 5.0)) == Tower(0, 0.0)
    assert power_of(0.0, Tower(3, 5.0)) == Tower(0, 1.0)
    assert power_of(2.0, Tower(0, 3.0)).value == pytest.approx(1e6)
    with pytest.raises(ValueError, match=">= 0"):
        power_of(1.0, Tower(0, -1.0))


def test_plotting_leaves_the_callers_backend_and_style_alone(tmp_path):
    code = (
        "import matplotlib; matplotlib.use('svg'); import matplotlib.pyplot as plt\n"
        "before = dict(plt.rcParams)\n"
        "from lmctheory.rates._laws import UniformCube; from lmctheory.rates import rate_curve\n"
        "from lmctheory.plotting import plot_rate_curve, save_figure\n"
        "curve = rate_curve(UniformCube(2), [16, 32], reps=2, seed=0)\n"
        f"save_figure(plot_rate_curve(curve, curve.fit(), predicted_slope=-0.5), r'{tmp_path}/r.png')\n"
        "import lmctheory_paper.figures\n"
        f"lmctheory_paper.figures.draw_all('smoke', r'{tmp_path}/res', r'{tmp_path}/out', only=[3])\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
        "changed = [k for k in before if before[k] != plt.rcParams[k] and k != 'backend']\n"
        "assert not changed, changed\n"
        "assert not plt.get_fignums()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r.png").is_file() and (tmp_path / "out" / "fig3_bounds.png").is_file()


def test_baseline_comparison_with_a_failed_configuration(tmp_path):
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


def test_layer_dimensions_does_not_fit_the_callers_estimator():
    from lmctheory.dimension import ParticipationRatio
    from lmctheory.lmc import layer_dimensions
    from lmctheory.nn import MLP

    est = ParticipationRatio()
    torch.manual_seed(0)
    out = layer_dimensions(MLP([4, 32, 32, 2]), method="weights", estimator=est)
    assert len(out) == 2 and all(r.estimate is not None for r in out)
    assert not hasattr(est, "dimension_")


def test_joblib_requirement_provides_what_the_sweep_uses():
    from importlib.metadata import requires  # the installed distribution's (tomllib needs Python 3.11)

    spec = next(d for d in requires("lmctheory") if d.startswith("joblib"))
    minimum = tuple(
        int(x) for x in spec.split(">=")[1].split(",")[0].split(";")[0].split("#")[0].strip().split(".")
    )
    assert minimum >= (1, 4)  # return_as="generator_unordered" appeared in joblib 1.4 (1.3.2 lacks it)


def test_explicit_matching_bound_is_capped_at_the_diameter_when_asked():
    from lmctheory.bounds import barrier_upper_bound, matching_error_upper_bound

    raw = matching_error_upper_bound(1000, 8, radius=1.0)
    assert raw > 2 * np.sqrt(8)  # the uncapped bound says nothing at this width
    assert matching_error_upper_bound(1000, 8, radius=1.0, capped=True) == pytest.approx(2 * np.sqrt(8))
    assert matching_error_upper_bound(10**8, 3, radius=1.0, capped=True) == matching_error_upper_bound(
        10**8, 3
    )
    capped = barrier_upper_bound(1000, 8, radius=1.0, input_radius=1.0, output_bound=1.0)
    assert capped == pytest.approx(3 / 4 * 2 * np.sqrt(8))  # Lip R A (kappa + 2L)/4 M with M the diameter


# --- exit codes: usage 2, runtime failure 1, interrupted 130 -------------------------------------------------


def test_usage_errors_exit_2():
    assert run_cli("rates", "--ns", "0")[0] == 2
    assert run_cli("validate", "--only", "nosuch")[0] == 2


def test_runtime_failures_exit_1(tmp_path):
    code, out, err = run_cli(
        "validate", "--smoke", "--only", "depth", "--cached-only", "--quiet", "--out", str(tmp_path)
    )
    assert code == 1 and out == "" and "no current record" in err and len(err.strip().splitlines()) == 1


def test_an_internal_error_is_one_line_and_debug_shows_the_traceback(monkeypatch):
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
    import lmctheory_paper._validate_cli as validate

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(validate, "cmd_validate", interrupted)
    code, out, err = run_cli("validate", "--smoke", "--only", "depth")
    assert code == 130 and len(err.strip().splitlines()) == 1 and "interrupted" in err


def test_broken_pipe_ends_quietly():
    proc = subprocess.run(
        f"{sys.executable} -m lmctheory.cli bounds --epsilon 0.1 --m0 784 --depth 3 --json | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stderr == "" and len(proc.stdout) == 10


def test_abbreviated_options_are_refused(tmp_path):
    code, _, err = run_cli(
        "rates", "--d", "2", "--ns", "8,16", "--reps", "2", "--plo", str(tmp_path / "p.png")
    )
    assert code == 2 and "--plo" in err and not list(tmp_path.iterdir())


def test_only_with_a_repeated_name_runs_it_once(tmp_path):
    code, out, _ = run_cli("validate", "--smoke", "--only", "depth,depth", "--out", str(tmp_path), "--json")
    rows = json.loads(out)["rows"]
    assert code == 0 and len({r["prediction"] for r in rows}) == len(rows)


def test_only_keeps_the_other_experiments_rows_of_the_report(tmp_path):
    run_cli("validate", "--smoke", "--only", "depth,two_layer", "--out", str(tmp_path))
    code, out, _ = run_cli("validate", "--smoke", "--only", "depth", "--out", str(tmp_path))
    rows = json.loads((tmp_path / "validation.json").read_text())["rows"]
    assert (
        code == 0
        and {r["experiment"] for r in rows} == {"depth", "two_layer"}
        and "keeps the earlier rows" in out
    )


def test_a_bad_baseline_is_reported_before_any_work(tmp_path):
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
    code, _, err = run_cli("validate", "--smoke", "--only", "depth", "--out", str(tmp_path / "o"), *option)
    assert code == 2 and option[0] in err and not (tmp_path / "o").exists()


@pytest.mark.parametrize("spec", ["teacher:hidden=-1", "teacher:task=regression", "digits:seed=abc"])
def test_bad_data_specs_fail_before_any_work(tmp_path, spec):
    code, _, err = run_cli(
        "validate", "--smoke", "--only", "fig2", "--out", str(tmp_path / "o"), "--data", spec
    )
    assert code == 2 and not (tmp_path / "o").exists(), err


def test_rate_curve_rejects_a_sampler_returning_the_wrong_number_of_points():
    from lmctheory.rates import rate_curve

    with pytest.raises(ValueError, match="n=16 it returned shape \\(17, 2\\)"):
        rate_curve(lambda n, rng: rng.random((n + 1, 2)), [8, 16], reps=2, seed=0)
