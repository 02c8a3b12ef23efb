"""Start-up time of the command line as users meet it: ``lmctheory --help`` and ``--version`` in a fresh
process (pytest-benchmark; ``make bench``). Parsing imports no numerical library; --version reads the
git revision."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.benchmark


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["rates", "--help"]])
def test_cli_start_up(benchmark, argv):
    benchmark.group = "CLI start-up, fresh process"
    benchmark.extra_info.update(kind="cli start-up", argv=" ".join(argv))

    def run():
        proc = subprocess.run([sys.executable, "-m", "lmctheory.cli", *argv], capture_output=True, timeout=60)
        assert proc.returncode == 0

    benchmark.pedantic(run, rounds=7, iterations=1, warmup_rounds=1)
