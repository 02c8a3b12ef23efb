"""Validation layer: rows and verdicts, report files, caching, baseline regressions, Dask == local."""

import json

import pytest
from lmctheory_validation import EXPERIMENTS
from lmctheory_validation.report import at_most, compare_to_baseline, within

from lmctheory.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_verdict_rules():
    assert within("e", "p", "f", -0.2, [-0.23, -0.25], 0.06).verdict == "holds"
    assert within("e", "p", "f", -0.2, [-0.3, -0.31], 0.06).verdict == "fails"
    assert within("e", "p", "f", -0.2, [-0.5], 0.06, applies=False).verdict == "inconclusive"
    assert at_most("e", "p", "f", 1.0, [0.2, 0.99]).verdict == "holds"
    assert at_most("e", "p", "f", 1.0, [0.2, 1.01]).verdict == "fails"


def test_smoke_validation_json_report_and_cache(capsys, tmp_path):
    out = tmp_path / "res"
    code, text, _ = run_cli(capsys, "validate", "--smoke", "--out-dir", str(out), "--json")
    assert code == 0
    doc = json.loads(text)
    rows = doc["rows"]
    assert rows and all(r["verdict"] in ("holds", "fails", "inconclusive") for r in rows)
    bound_rows = [r for r in rows if "explicit bound" in r["prediction"]]
    assert bound_rows and all(r["verdict"] == "holds" for r in bound_rows)  # exact: never exceeded
    sharp = [r for r in rows if "uniform d=5" in r["prediction"] and "slope" in r["prediction"]]
    assert sharp[0]["verdict"] == "holds"
    md = (out / "validation.md").read_text()
    assert sum(md.count(f"| {name} |") for name in EXPERIMENTS) == len(rows)
    assert {r["experiment"] for r in rows} == set(EXPERIMENTS)
    # same seeds -> identical results; finished configs are cached
    code, text2, _ = run_cli(capsys, "validate", "--smoke", "--out-dir", str(tmp_path / "again"), "--json")
    assert [r["measured"] for r in json.loads(text2)["rows"]] == [r["measured"] for r in rows]
    cached = EXPERIMENTS["rates"].run("smoke", str(out), progress=False)
    assert [r.measured for r in cached] == [r["measured"] for r in rows if r["experiment"] == "rates"]


def test_baseline_regressions_exit_non_zero(capsys, tmp_path):
    out = tmp_path / "res"
    run_cli(capsys, "validate", "--smoke", "--out-dir", str(out))
    baseline = json.loads((out / "validation.json").read_text())
    assert compare_to_baseline(baseline["rows"], baseline["rows"]) == []
    baseline["rows"][0]["measured"] += 1.0  # the current run now leaves the baseline band
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(baseline))
    code, _, err = run_cli(capsys, "validate", "--smoke", "--out-dir", str(out), "--baseline", str(path))
    assert code == 1 and "outside the baseline band" in err and baseline["rows"][0]["prediction"] in err
    flipped = [dict(r, verdict="fails") if i == 1 else r for i, r in enumerate(baseline["rows"])]
    assert any("holds -> fails" in p for p in compare_to_baseline(flipped, baseline["rows"]))


def test_dask_gives_the_same_rows_as_local(tmp_path):
    pytest.importorskip("dask.distributed")
    local = EXPERIMENTS["rates"].run("smoke", str(tmp_path / "a"), progress=False)
    dask = EXPERIMENTS["rates"].run("smoke", str(tmp_path / "b"), progress=False, dask_local=2)
    assert [(r.prediction, r.measured) for r in local] == [(r.prediction, r.measured) for r in dask]


@pytest.mark.parametrize("argv,match", [(["validate", "--only", "nosuchexp"], "unknown experiment"),
                                        (["validate", "--only", ","], "unknown experiment")])
def test_validate_errors(capsys, argv, match):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == "" and match in err


def test_two_layer_smoke_exact_verdicts(tmp_path):
    rows = EXPERIMENTS["two_layer"].run("smoke", str(tmp_path), progress=False)
    exact = [r for r in rows if "bound" in r.prediction]  # certificate and explicit bounds: rigorous
    assert len(exact) == 3 and all(r.verdict == "holds" for r in exact)
    slope = next(r for r in rows if r.prediction.startswith("matching error slope"))
    assert slope.verdict == "holds" and slope.predicted == pytest.approx(-0.2)
