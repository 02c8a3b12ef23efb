"""The pytest plugin: rows of lmctheory.claims become test outcomes (pytester runs in a scratch directory)."""

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

CLAIMS = """
from lmctheory.claims import direction, measurement

CLEAR = [0.021, 0.034, 0.018, 0.027, 0.030]


def test_holds(claim):
    claim(direction("study", "wider is better", "b64 - b256 > 0", CLEAR, fails_if="mean <= 0"))


def test_fails(claim):
    claim(direction("study", "deeper is better", "d2 - d4 > 0", [-x for x in CLEAR], fails_if="mean <= 0"))


def test_inconclusive(claim):
    claim(direction("study", "noise decides nothing", "x > 0", [0.1, -0.2, 0.15, -0.1], fails_if="mean <= 0"))


def test_measurement(claim):
    claim(measurement("study", "a width we only report", "N", [1.0, 2.0]))
"""


def _plugin_args() -> list[str]:
    """Load the plugin explicitly unless the installed entry point already does."""
    installed = any(ep.value == "lmctheory.pytest_plugin" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "lmctheory.pytest_plugin"]


def test_verdicts_become_outcomes_and_the_summary_lists_every_claim(pytester):
    pytester.makepyfile(test_claims=CLAIMS)
    result = pytester.runpytest_subprocess(*_plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*lmctheory claims*",
            "*3 predictions (1 hold, 1 fail, 1 inconclusive)*",
            "*test_fails: claim fails: deeper is better*fails if mean <= 0*",
        ]
    )


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("fail", dict(passed=2, failed=2)),
        ("xfail", dict(passed=2, failed=1, xfailed=1)),
        ("pass", dict(passed=3, failed=1)),
    ],
)
def test_the_inconclusive_outcome_is_configurable_by_option_and_ini(pytester, outcome, expected):
    pytester.makepyfile(test_claims=CLAIMS)
    pytester.runpytest_subprocess(*_plugin_args(), f"--lmctheory-inconclusive={outcome}").assert_outcomes(
        **expected
    )
    pytester.makeini(f"[pytest]\nlmctheory_inconclusive = {outcome}\n")
    pytester.runpytest_subprocess(*_plugin_args()).assert_outcomes(**expected)


def test_a_bad_ini_value_is_a_usage_error_naming_it(pytester):
    pytester.makepyfile(test_claims=CLAIMS)
    pytester.makeini("[pytest]\nlmctheory_inconclusive = maybe\n")
    result = pytester.runpytest_subprocess(*_plugin_args())
    result.stderr.fnmatch_lines(["*lmctheory_inconclusive must be one of skip, fail, xfail, pass*maybe*"])


def test_the_report_holds_every_claim_of_the_session(pytester):
    import json

    pytester.makepyfile(test_claims=CLAIMS)
    report = pytester.path / "claims-report"
    pytester.runpytest_subprocess(*_plugin_args(), f"--lmctheory-report={report}")
    doc = json.loads((report / "claims.json").read_text())
    assert [r["prediction"] for r in doc["rows"]] == [
        "wider is better",
        "deeper is better",
        "noise decides nothing",
        "a width we only report",
    ]
    assert [r["verdict"] for r in doc["rows"]] == ["holds", "fails", "inconclusive", "reported"]
    assert "| study | prediction | deeper is better |" in (report / "claims.md").read_text()


def test_claims_travel_from_xdist_workers(pytester):
    pytest.importorskip("xdist")
    pytester.makepyfile(test_claims=CLAIMS)
    result = pytester.runpytest_subprocess(*_plugin_args(), "-n", "2")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*lmctheory claims*", "*deeper is better*"])


def test_claim_refuses_what_is_not_a_row(pytester):
    pytester.makepyfile(test_bad="def test_bad(claim):\n    claim({'verdict': 'holds'})\n")
    result = pytester.runpytest_subprocess(*_plugin_args())
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*claim() takes a lmctheory.claims.Row, got dict*"])


def _guide_blocks():
    from pathlib import Path

    from .test_readme import python_blocks

    return python_blocks(Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "claims.md")


def test_the_user_guides_claim_test_passes_under_the_plugin(pytester):
    test_block = next(b for b in _guide_blocks() if "def test_" in b)
    pytester.makepyfile(test_guide=test_block)
    pytester.runpytest_subprocess(*_plugin_args()).assert_outcomes(passed=1)


def test_the_user_guides_experiment_module_runs_through_validate(tmp_path, monkeypatch, capsys):
    import json
    import sys

    from joblib.externals.loky import get_reusable_executor

    from lmctheory.cli import main

    module = next(b for b in _guide_blocks() if "def rows_from" in b)
    (tmp_path / "width_study.py").write_text(module)
    import os

    pool = get_reusable_executor(
        max_workers=2
    )  # workers started before the experiment's directory is on sys.path
    assert pool.submit(os.getpid).result() != os.getpid()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "width_study", raising=False)
    code = main(
        [
            "validate",
            "--smoke",
            "--experiment",
            "width_study",
            "--out",
            "results/width",
            "--quiet",
            "--n-jobs",
            "2",
        ]
    )
    assert code == 0
    doc = json.loads((tmp_path / "results" / "width" / "validation.json").read_text())
    assert [(r["experiment"], r["verdict"]) for r in doc["rows"]] == [("width_study", "holds")]
    assert len(list((tmp_path / "results" / "width" / "width_study-smoke").glob("*.json"))) == 6


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("NAME = 'x'\n", "does not define PRESETS, run_config, rows_from"),
        (
            "NAME = 'fig2'\nPRESETS = {'smoke': []}\ndef run_config(c): return {}\ndef rows_from(r): return []\n",
            "NAME 'fig2' is a built-in experiment's",
        ),
        (
            "NAME = 'y'\nPRESETS = {'full': []}\ndef run_config(c): return {}\ndef rows_from(r): return []\n",
            "no 'smoke' preset (it has full)",
        ),
    ],
)
def test_a_bad_experiment_module_is_one_line_naming_it(tmp_path, monkeypatch, capsys, source, message):
    import sys

    from lmctheory.cli import main

    (tmp_path / "bad_experiment.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "bad_experiment", raising=False)
    assert main(["validate", "--smoke", "--experiment", "bad_experiment", "--out", "r"]) == 2
    err = capsys.readouterr().err
    assert message in err and "--experiment bad_experiment" in err and len(err.strip().splitlines()) == 1
    assert main(["validate", "--smoke", "--experiment", "no_such_module_here", "--out", "r"]) == 2
    assert "--experiment no_such_module_here: cannot import it" in capsys.readouterr().err
