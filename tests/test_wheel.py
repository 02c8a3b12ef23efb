"""The repository's two distributions, built and installed as users get them.

* ``lmctheory`` (the library) holds no experiment and no record and builds without a warning; installed
  into a fresh virtual environment *without torch* (its dependencies from the package index), it computes a
  W_2, an MLE, a width bound and a sweep, and ``import lmctheory.nn`` says in one line which extra to install
  (it downloads or reuses the dependencies' wheels).
* ``lmctheory-paper`` holds the experiments, the figures and every committed record; installed next to the
  library it adds ``validate`` and ``figures`` to the command line, which then runs from any directory.

The second environment gets both wheels alone; their dependencies (numpy, torch, ...) are made importable
from the test's own environment through a ``.pth`` file instead of being downloaded again (a path listed in a
``.pth`` file is not itself scanned for ``.pth`` files, so the editable installs of the test's environment
stay invisible).

Every test here is ``slow`` (``make test-slow``): building two wheels and installing them takes a minute."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "paper" / "lmctheory_paper" / "figures" / "cache"
#: the library: code only
MAX_LIBRARY_BYTES = int(0.5 * 2**20)
#: the paper's package: 694 records, each with the machine that computed them (about 0.7 kB compressed)
MAX_PAPER_BYTES = int(2.5 * 2**20)
#: output lines that are not about the package: this machine sets PYTHONDONTWRITEBYTECODE, and pip notes the
#: package-index locations of its configuration that do not exist here
ENVIRONMENT_NOTES = ("byte-compiling is disabled", "is ignored: it is neither a file nor a directory")


def _run(cmd, cwd, timeout=600, check=True, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["MPLBACKEND"] = "Agg"
    env.update(extra_env or {})
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )
    if check:
        assert proc.returncode == 0, (
            f"{cmd} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def _warnings(build_output: str) -> list[str]:
    return [
        line.strip()
        for line in build_output.splitlines()
        if re.search(r"warn", line, re.IGNORECASE) and not any(note in line for note in ENVIRONMENT_NOTES)
    ]


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    if not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout (the version comes from git)")
    base = tmp_path_factory.mktemp("wheels")
    built = {}
    for name, source in (("lmctheory", ROOT), ("lmctheory_paper", ROOT / "paper")):
        # setuptools' build directory goes to a fresh temporary one (DIST_EXTRA_CONFIG: an extra setup.cfg),
        # never the checkout's `build/`, whose files a previous build left behind would ship again
        config = base / f"{name}-build.cfg"
        config.write_text(f"[build]\nbuild_base = {base / ('build-' + name)}\n")
        proc = _run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", base / "dist", source],
            cwd=base,
            extra_env={"DIST_EXTRA_CONFIG": str(config)},
        )
        (wheel,) = (base / "dist").glob(f"{name}-*.whl")
        built[name] = (wheel, proc.stdout + proc.stderr)
    return built


@pytest.fixture(scope="module")
def installed(wheels, tmp_path_factory):
    """Both wheels unpacked into a fresh environment whose dependencies come from the test's own."""
    base = tmp_path_factory.mktemp("env")
    venv.EnvBuilder(with_pip=False).create(base / "env")
    python = base / "env" / "bin" / "python"
    purelib = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    ours = {Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["platlib"])}
    (purelib / "_lmctheory_test_dependencies.pth").write_text("\n".join(str(p) for p in ours) + "\n")
    for wheel, _ in wheels.values():
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(purelib)  # a wheel is installed by unpacking it into site-packages
    entry = base / "env" / "bin" / "lmctheory"
    entry.write_text(f"#!{python}\nimport sys\nfrom lmctheory.cli import main\nsys.exit(main())\n")
    entry.chmod(0o755)
    work = base / "work"
    work.mkdir()
    return {"python": python, "lmctheory": entry, "work": work, "site": purelib}


def test_the_library_wheel_holds_no_experiment_and_no_record(wheels):
    wheel, output = wheels["lmctheory"]
    names = zipfile.ZipFile(wheel).namelist()
    assert wheel.stat().st_size <= MAX_LIBRARY_BYTES, f"{wheel.name}: {wheel.stat().st_size / 2**20:.2f} MB"
    assert {n.split("/")[0] for n in names} == {"lmctheory", wheel.name.split("-py3")[0] + ".dist-info"}
    assert not any(n.endswith(".json") for n in names) and "lmctheory/py.typed" in names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist: torch")]
    assert requires and all("extra ==" in line for line in requires), requires  # torch only with [nn]
    assert _warnings(output) == []


def test_the_paper_wheel_ships_every_committed_record(wheels):
    wheel, output = wheels["lmctheory_paper"]
    assert wheel.stat().st_size <= MAX_PAPER_BYTES, f"{wheel.name}: {wheel.stat().st_size / 2**20:.2f} MB"
    names = zipfile.ZipFile(wheel).namelist()
    prefix = "lmctheory_paper/figures/cache/"
    shipped = {n.removeprefix(prefix) for n in names if n.startswith(prefix) and n.endswith(".json")}
    committed = {p.relative_to(RECORDS).as_posix() for p in RECORDS.rglob("*.json")}
    assert shipped == committed and len(committed) > 100, sorted(shipped ^ committed)[:5]
    entry_points = (
        zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    )
    assert "[lmctheory.cli]" in entry_points and "[lmctheory.experiments]" in entry_points
    assert _warnings(output) == []


def test_the_installed_packages_are_the_wheels_not_the_checkout(wheels, installed):
    out = _run(
        [
            installed["python"],
            "-c",
            "import lmctheory, lmctheory_paper.figures; print(lmctheory.__file__); "
            "print(lmctheory_paper.figures.CACHE); print(lmctheory.__version__)",
        ],
        cwd=installed["work"],
    ).stdout.split()
    assert all(Path(p).is_relative_to(installed["site"]) for p in out[:2]), out
    assert out[2] != "0.0.0" and out[2] in wheels["lmctheory"][0].name


def test_the_installed_cli_runs_rates_bounds_validate_and_figures(installed):
    cli, work = installed["lmctheory"], installed["work"]
    rates = json.loads(
        _run(
            [cli, "rates", "--law", "uniform", "--d", "3", "--ns", "16,32,64", "--reps", "2", "--json"],
            cwd=work,
        ).stdout
    )
    assert rates["result"]["fit"]["slope"] < 0
    bounds = json.loads(_run([cli, "bounds", "--m0", "5", "--epsilon", "0.1", "--json"], cwd=work).stdout)
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


TORCH_FREE = """
import sys, tempfile
import numpy as np
from lmctheory.ot import wasserstein
from lmctheory.dimension import MLE
from lmctheory.bounds import width_report
from lmctheory.runs import canonical_config, run_sweep
x, y = np.zeros((3, 2)), np.ones((3, 2))
print("w2", wasserstein(x, y, p=2))
print("mle", round(MLE().fit(np.random.default_rng(0).normal(size=(500, 3))).dimension_))
print("width", len(width_report(0.1, 5, 2).layers))
print("sweep", run_sweep(canonical_config, [{"a": 1}], tempfile.mkdtemp(), progress=False).ran)
print("torch", "torch" in sys.modules)
"""


def test_the_library_installs_and_computes_without_torch(wheels, tmp_path):
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", wheels["lmctheory"][0]], cwd=tmp_path, timeout=1800)
    assert _run([python, "-c", "import torch"], cwd=tmp_path, check=False).returncode != 0  # really absent
    out = _run([python, "-c", TORCH_FREE], cwd=tmp_path).stdout.split("\n")
    assert out[:5] == ["w2 1.4142135623730951", "mle 3", "width 2", "sweep 1", "torch False"], out
    failed = _run([python, "-c", "import lmctheory.nn"], cwd=tmp_path, check=False)
    last = failed.stderr.strip().splitlines()[-1]
    assert failed.returncode == 1 and last == (
        "ModuleNotFoundError: lmctheory.nn needs PyTorch: pip install 'lmctheory[nn]'"
    ), failed.stderr
