"""Fuzzing the CLI: random argument combinations never let a traceback escape; every failure is one
line on stderr with a non-zero exit code, every success prints something."""

import argparse
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmctheory.cli import build_parser, main
from tests.conftest import examples

FUZZED = ("rates", "rate-bound", "wasserstein", "dimension", "bounds", "barrier", "rerun")
EXCLUDED_OPTIONS = {
    "--benchmark",
    "--help",
    "-h",
    "--version",
    "--plot",
    "--out",
}  # long jobs / exits / writes
VALUES = [
    "0",
    "-1",
    "1",
    "2",
    "3",
    "0.5",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "abc",
    "",
    "8,16",
    "8,16,...,64",
    "0,8",
    "uniform",
    "gaussian",
    "subspace",
    "nosuch",
    "mle",
    "twonn",
    "all",
    "relu",
    "none",
    "full",
    "/no/such/file.npy",
    "/no/such/dir",
]


def _options():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = {}
    for name in FUZZED:
        actions = sub.choices[name]._actions
        out[name] = sorted({s for a in actions for s in a.option_strings if s not in EXCLUDED_OPTIONS})
    return out


OPTIONS = _options()
_DIR = Path(tempfile.mkdtemp(prefix="lmctheory-fuzz-"))
_rng = np.random.default_rng(0)
np.save(_DIR / "x.npy", _rng.normal(size=(40, 3)))
np.save(_DIR / "y.npy", _rng.normal(size=(40, 3)))
main(["rate-bound", "--d", "3", "--ns", "8,16", "--out", str(_DIR / "rb.json")])
VALID = {  # a valid command line per subcommand; the fuzzer mutates these
    "rates": ["rates", "--law", "uniform", "--d", "2", "--ns", "8,16", "--reps", "2", "--n-jobs", "1"],
    "rate-bound": ["rate-bound", "--d", "3", "--ns", "8,16"],
    "wasserstein": ["wasserstein", str(_DIR / "x.npy"), str(_DIR / "y.npy"), "--p", "2"],
    "dimension": ["dimension", str(_DIR / "x.npy"), "--estimator", "pca"],
    "bounds": ["bounds", "--epsilon", "0.1", "--m0", "5"],
    "barrier": ["barrier", "/no/such/a.pt", "/no/such/b.pt"],
    "rerun": ["rerun", str(_DIR / "rb.json")],
}


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(FUZZED))
    argv = list(VALID[command])
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 3))
        if kind == 0 and len(argv) > 1:  # replace one token (option or value) by a random value
            argv[draw(st.integers(1, len(argv) - 1))] = draw(st.sampled_from(VALUES))
        elif kind == 1 and len(argv) > 1:  # drop one token
            del argv[draw(st.integers(1, len(argv) - 1))]
        elif kind == 2:  # add an option with a random value
            argv += [draw(st.sampled_from(OPTIONS[command])), draw(st.sampled_from(VALUES))]
        else:  # add a bare option or a stray value
            argv.append(draw(st.sampled_from(OPTIONS[command] + VALUES)))
    return argv


CALLS = []


@settings(
    max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(argv=command_lines())
def test_no_traceback_escapes_and_failures_are_one_line(capsys, argv):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out, err = capsys.readouterr()
    CALLS.append(code)
    assert "Traceback" not in err and "Traceback" not in out, argv
    if code != 0:
        lines = [line for line in err.splitlines() if line.strip() and "Warning" not in line]
        assert code in (1, 2) and len(lines) == 1 and "error" in lines[0], (argv, err)
        assert out == "", argv
    else:
        assert out.strip(), argv


def test_fuzz_tried_both_outcomes():
    """The fuzz run above exercised failures and successes (it ran first in this module)."""
    print(
        f"\nCLI fuzz: {len(CALLS)} command lines, {sum(c == 0 for c in CALLS)} succeeded, "
        f"{sum(c != 0 for c in CALLS)} one-line errors"
    )
    assert len(CALLS) >= 100 and any(c == 0 for c in CALLS) and any(c != 0 for c in CALLS)
