"""Paper figures: every script draws on a tiny preset (labels checked on the matplotlib objects),
the report lists every prediction, and redrawing from the committed cache computes nothing."""

import json
import subprocess
import sys
from pathlib import Path

import lmctheory_paper.figures as figures
import pytest
from lmctheory_paper.figures._common import RUNS

from lmctheory.cli import main

EXPECTED_LABELS = {  # figure -> (x labels, y labels) that must appear on its axes
    1: ({"N (points per cloud)"}, {"E W_1 (two-sample)", "E W_2 (two-sample)"}),
    2: ({"true intrinsic dimension", "definition"}, {"estimated dimension", "dimension"}),
    3: (
        {"epsilon (barrier / matching error)", "epsilon (barrier)"},
        {"log10 required width", "log10 log10 required width (log scale)"},
    ),
    4: ({"learning rate"}, {"test loss at t = 1/2", "participation ratio"}),
    5: ({"width N"}, {"W_2 between neuron clouds", "E|f_1/2 - (f_A + f_B)/2|", "loss barrier"}),
    6: (
        {"t (path from A to B)", "error barrier (max_minus_mean)"},
        {"test error - mean endpoint error", "variant"},
    ),
    7: ({"certified bound (predicted)"}, {"measured"}),
    8: ({"p-value of the claim (values below 1e-06 drawn at it)"}, {""}),
}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """All figures drawn once on the smoke presets; the matplotlib figures are captured before saving."""
    captured = {}
    mp = pytest.MonkeyPatch()
    for number, module in figures.FIGURES.items():
        original = module.save

        def capture(fig, out_dir, name, original=original, number=number):
            captured[number] = fig
            return original(fig, out_dir, name)

        mp.setattr(module, "save", capture)
    root = tmp_path_factory.mktemp("figures")
    try:
        out = figures.draw_all("smoke", root / "results", root / "out")
    finally:
        mp.undo()
    return out, captured, root


@pytest.mark.parametrize("number", sorted(EXPECTED_LABELS))
def test_every_figure_is_drawn_with_its_axes_labels(smoke, number):
    out, captured, _ = smoke
    png, pdf = (figures.FIGURES[number].NAME + ext for ext in (".png", ".pdf"))
    paths = out["figures"][number]
    assert [p.rsplit("/", 1)[-1] for p in paths] == [png, pdf]
    for p in paths:
        with open(p, "rb") as f:
            head = f.read(8)
        assert head.startswith(b"\x89PNG" if p.endswith(".png") else b"%PDF")
    axes = captured[number].axes
    xlabels = {ax.get_xlabel() for ax in axes}
    ylabels = {ax.get_ylabel() for ax in axes}
    want_x, want_y = EXPECTED_LABELS[number]
    assert want_x <= xlabels and want_y <= ylabels, (xlabels, ylabels)
    assert all(ax.get_title() for ax in axes)
    drawn = [ax for ax in axes if ax.lines or ax.collections or ax.patches]
    assert drawn, "no data drawn"


def test_the_verdict_figure_draws_every_prediction_and_rings_the_borderline_ones(smoke):
    from lmctheory_paper.figures import fig8_verdicts

    _, captured, root = smoke
    ax = captured[8].axes[0]
    rows = [
        r
        for rs in fig8_verdicts.prediction_rows("smoke", root / "results", progress=False).values()
        for r in rs
        if r.statistic.get("p_value") is not None
    ]
    sizes = [c.get_sizes()[0] for c in ax.collections if len(c.get_sizes())]
    assert rows and sizes.count(18) == len(rows)
    assert sizes.count(70) == sum(r.borderline for r in rows)


def test_report_lists_every_prediction_row(smoke):

    out, _, root = smoke
    report = (root / "out" / "REPORT.md").read_text()
    rows = json.loads((root / "out" / "validation.json").read_text())["rows"]
    assert len(rows) >= 10
    for r in rows:
        assert f"| {r['experiment']} | {r['kind']} | {r['prediction']} |" in report
    for module in figures.FIGURES.values():
        assert f"]({module.NAME}.png)" in report and module.TITLE in report
    assert "## Compute time per experiment" in report and "| depth | 2 |" in report


@pytest.fixture(scope="module")
def redrawn(tmp_path_factory):
    """Every figure of both presets redrawn from the committed records, with computing refused."""
    import lmctheory.runs._sweep as sweep

    def refuse(items, *args, **kwargs):
        if items:
            raise AssertionError(f"{len(items)} configurations would be computed, e.g. {items[0][3]}")
        return iter(())

    before = {p: p.stat().st_mtime_ns for p in figures.CACHE.rglob("*")}
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sweep, "_execute", refuse)
        for preset in ("quick", "full"):
            root = tmp_path_factory.mktemp(preset)
            RUNS.clear()
            drawn = figures.draw_all(preset, root / "results", root, cached_only=True)
            out[preset] = (root, drawn, list(RUNS))
    after = {p: p.stat().st_mtime_ns for p in figures.CACHE.rglob("*")}
    return out, before == after


@pytest.mark.parametrize("preset", ["quick", "full"])
def test_redraw_from_the_committed_cache_computes_nothing(redrawn, preset):
    """Both presets' committed records are complete and current: every figure redraws from them."""
    results, untouched = redrawn
    root, out, runs = results[preset]
    assert sorted(out["figures"]) == sorted(figures.FIGURES)
    assert runs and all(ran == 0 for _, ran, _ in runs) and sum(c for _, _, c in runs) > 100
    assert (root / "REPORT.md").is_file()
    assert untouched  # the committed cache is read-only
    committed = list(figures.CACHE.glob(f"*-{preset}/*.json"))
    assert len(list((root / "results").rglob("*.json"))) == len(committed)


def test_the_generated_validation_tables_match_the_committed_records(redrawn):
    """The README's and the docs' quick-vs-full tables are what `make validation-table` makes of the
    committed records now (regenerate them with it after `make cache` / `make cache-full`)."""
    import re

    from lmctheory_paper.validation.summary import (
        _rows,
        borderline_rows,
        differences_markdown,
        summary_markdown,
    )

    results, _ = redrawn
    rows = [_rows(results[p][0] / "validation.json") for p in ("quick", "full")]
    expected = summary_markdown(*rows)
    root = Path(__file__).resolve().parents[1]
    block = re.compile(r"<!-- begin:validation-summary -->\n(.*?)<!-- end:validation-summary -->", re.S)
    for page in (root / "README.md", root / "docs" / "user_guide" / "validation.md"):
        (found,) = block.findall(page.read_text())
        assert found == expected, f"{page.name}: stale validation table (run `make validation-table`)"
    listed = re.compile(r"<!-- begin:verdict-differences -->\n(.*?)<!-- end:verdict-differences -->", re.S)
    (found,) = listed.findall((root / "docs" / "user_guide" / "validation.md").read_text())
    assert found == differences_markdown(*rows), "validation.md: stale list of verdict differences"
    edge = re.compile(r"<!-- begin:borderline-rows -->\n(.*?)<!-- end:borderline-rows -->", re.S)
    (found,) = edge.findall((root / "docs" / "user_guide" / "validation.md").read_text())
    assert found == "\n".join(borderline_rows(*rows)) + "\n", "validation.md: stale borderline rows"


def test_figures_default_output_is_a_named_directory_in_the_working_directory(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in figures.CACHE.parent.iterdir())
    code = main(["figures", "--smoke", "--only", "3"])
    out, err = capsys.readouterr()
    assert code == 0 and "lmctheory-figures" in err and "everything written under lmctheory-figures/" in out
    assert (tmp_path / "lmctheory-figures" / "fig3_bounds.png").is_file()
    assert sorted(p.name for p in figures.CACHE.parent.iterdir()) == before  # nothing new in the package


def test_figures_only_some_do_not_compute_the_other_experiments(capsys, tmp_path):
    RUNS.clear()
    code = main(["figures", "--smoke", "--only", "3", "--no-cache", "--out", str(tmp_path / "o")])
    assert code == 0 and not list((tmp_path / "o" / "results").glob("*/*.json"))  # figure 3 needs no sweep
    report = (tmp_path / "o" / "REPORT.md").read_text()
    assert "Not in this report" in report and "rates" in report


def test_cli_and_script_entry_points(capsys, tmp_path):
    code = main(
        [
            "figures",
            "--smoke",
            "--only",
            "3",
            "--results",
            str(tmp_path / "r"),
            "--out",
            str(tmp_path / "o"),
            "--json",
        ]
    )
    assert code == 0
    assert (tmp_path / "o" / "fig3_bounds.png").is_file() and (tmp_path / "o" / "REPORT.md").is_file()
    capsys.readouterr()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lmctheory_paper.figures.fig3_bounds",
            "--smoke",
            "--out",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s" / "fig3_bounds.pdf").is_file()
    assert main(["figures", "--only", "9", "--out", str(tmp_path / "x")]) == 2
    assert (
        main(
            ["figures", "--smoke", "--only", "1", "--cached-only", "--no-cache", "--out", str(tmp_path / "y")]
        )
        == 1
    )


def test_the_figures_report_compares_other_records_with_the_committed_ones(tmp_path):
    import shutil

    from lmctheory_paper.figures.report import _comparisons

    shutil.copytree(figures.CACHE / "depth-quick", tmp_path / "depth-quick")
    files = sorted((tmp_path / "depth-quick").glob("*.json"))
    doc = json.loads(files[0].read_text())
    doc["result"]["bound"][0] *= 2.0
    files[0].write_text(json.dumps(doc))
    comparison = _comparisons("quick", tmp_path, skipped=[])["depth"]
    assert comparison["compared"] == len(files) and comparison["identical"] == len(files) - 1
    assert [d["key"] for d in comparison["beyond_tolerance"]] == [doc["hash"]]
    assert _comparisons("quick", figures.CACHE, skipped=[]) == {}  # the committed records themselves


# ------------------------------------------------ regressions found in the review of acd35e6


def test_plotting_leaves_the_callers_backend_and_style_alone(tmp_path):
    """Review of acd35e6: fails on that commit's behaviour."""
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
