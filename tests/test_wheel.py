"""A wheel built from the checkout installs into a fresh virtual environment and its command line
works there: ``rates``, ``bounds``, ``validate --smoke`` and ``figures`` (drawn from the records the
wheel ships, computing nothing). The wheel stays within 2.5 MB with the figure cache inside.

The fresh environment gets lmctheory from the wheel alone; its dependencies (numpy, torch, ...) are
made importable from the test's own environment through a ``.pth`` file instead of being downloaded
again (a path listed in a ``.pth`` file is not itself scanned for ``.pth`` files, so the editable
install of the test's environment stays invisible)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# 2.5 MB: the 694 shipped records each carry the machine that computed them (about 0.7 kB compressed, 0.47 MB
# in all)
MAX_WHEEL_BYTES = int(2.5 * 2**20)


def _run(cmd, cwd, timeout=600):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )
    assert proc.returncode == 0, (
        f"{cmd} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    )
    return proc.stdout


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    if not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout (the version comes from git)")
    base = tmp_path_factory.mktemp("wheel")
    # build from a clean copy of HEAD plus the working tree's tracked files, as `pip wheel .` would
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", base / "dist", ROOT], cwd=base)
    (wheel,) = (base / "dist").glob("lmctheory-*.whl")
    env_dir = base / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    ours = {Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["platlib"])}
    (purelib / "_lmctheory_test_dependencies.pth").write_text("\n".join(str(p) for p in ours) + "\n")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(purelib)  # a wheel is installed by unpacking it into site-packages
    entry = env_dir / "bin" / "lmctheory"
    entry.write_text(f"#!{python}\nimport sys\nfrom lmctheory.cli import main\nsys.exit(main())\n")
    entry.chmod(0o755)
    work = base / "work"
    work.mkdir()
    return {"wheel": wheel, "python": python, "lmctheory": entry, "work": work, "site": purelib}


def test_the_wheel_is_small_and_ships_the_figure_cache(wheel_env):
    wheel = wheel_env["wheel"]
    assert wheel.stat().st_size <= MAX_WHEEL_BYTES, f"{wheel.name}: {wheel.stat().st_size / 2**20:.2f} MB"
    names = zipfile.ZipFile(wheel).namelist()
    committed = list((ROOT / "paper_figures" / "cache").rglob("*.json"))
    shipped = [n for n in names if n.startswith("lmctheory_paper.figures/cache/") and n.endswith(".json")]
    assert len(shipped) == len(committed) > 100
    assert "lmctheory/py.typed" in names
    assert not any(n.startswith(("tests/", "docs/", "lmctheory_paper.figures/cache/..")) for n in names)


def test_the_installed_package_is_the_wheel_not_the_checkout(wheel_env):
    out = _run(
        [
            wheel_env["python"],
            "-c",
            "import lmctheory, lmctheory_paper.figures; print(lmctheory.__file__); "
            "print(lmctheory_paper.figures.CACHE); print(lmctheory.__version__)",
        ],
        cwd=wheel_env["work"],
    ).split()
    assert all(Path(p).is_relative_to(wheel_env["site"]) for p in out[:2]), out
    assert out[2] != "0.0.0" and out[2] in wheel_env["wheel"].name


def test_the_installed_cli_runs_rates_bounds_validate_and_figures(wheel_env):
    cli, work = wheel_env["lmctheory"], wheel_env["work"]
    rates = json.loads(
        _run(
            [cli, "rates", "--law", "uniform", "--d", "3", "--ns", "16,32,64", "--reps", "2", "--json"],
            cwd=work,
        )
    )
    assert rates["result"]["fit"]["slope"] < 0
    bounds = json.loads(_run([cli, "bounds", "--m0", "5", "--epsilon", "0.1", "--json"], cwd=work))
    assert bounds["result"]
    _run(
        [cli, "validate", "--smoke", "--only", "rates,two_layer", "--out", work / "validation", "--quiet"],
        cwd=work,
    )
    rows = json.loads((work / "validation" / "validation.json").read_text())
    assert rows["rows"] and all(
        r["verdict"] in ("holds", "fails", "inconclusive", "reported") for r in rows["rows"]
    )
    _run(
        [cli, "figures", "--cached-only", "--quiet"], cwd=work
    )  # from the shipped records, computing nothing
    figures = work / "lmctheory-figures"
    assert (figures / "REPORT.md").is_file() and len(list(figures.glob("*.png"))) >= 7
