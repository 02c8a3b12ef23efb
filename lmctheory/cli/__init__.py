"""Command-line interface: ``lmctheory <subcommand> ...``.

Every subcommand prints a human table by default and exactly one JSON document on stdout with
``--json`` (warnings and progress go to stderr); ``--out FILE`` also writes that document
atomically. Subcommands live in :mod:`lmctheory.cli.theory` (rates, rate-bound, wasserstein,
dimension, bounds), :mod:`lmctheory.cli.networks` (train, barrier), :mod:`lmctheory.cli.align` (align), :mod:`lmctheory_paper._validate_cli`
(validate), :mod:`lmctheory_paper._figures_cli` (figures) and :mod:`lmctheory.cli.rerun` (rerun). Every
document records its ``argv`` so that ``lmctheory rerun FILE`` can recompute it.

Errors are one line on stderr, never a traceback (``lmctheory --debug ...`` shows it). Exit codes:

* 0: success;
* 1: a runtime failure (a solver that cannot certify its answer, a problem beyond the memory
  budget, cached records missing with ``--cached-only``, a disk that cannot be written, a
  regression against ``--baseline``, a re-run that differs, an internal error);
* 2: a usage error, found while the command validates its arguments before computing anything (an
  invalid option or option value, an input file that is missing or holds invalid data);
* 130: interrupted (Ctrl-C). Finished work is kept: sweeps resume where they stopped.

A closed output pipe (``lmctheory ... | head``) ends the command quietly.
"""

from __future__ import annotations

import os
import sys
import warnings

from ..exceptions import CacheMissError, ConvergenceError, DirtyCheckoutError, ProblemTooLargeError
from ._parser import build_parser
from .common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UsageError,
    load_points,
    parse_int_list,
    parse_sizes,
)

__all__ = ["build_parser", "console", "main", "parse_sizes", "parse_int_list", "load_points"]

#: exceptions that mean the request was invalid (exit 2): what a command's argument validation raised, and an
#: input path that does not exist or is a directory; every other failure exits 1
_USAGE_ERRORS = (UsageError, FileNotFoundError, IsADirectoryError, NotADirectoryError)
_RUNTIME_ERRORS = (
    ConvergenceError,
    ProblemTooLargeError,
    CacheMissError,
    DirtyCheckoutError,
    OSError,
    MemoryError,
    RuntimeError,
    NotImplementedError,
    ArithmeticError,
    RecursionError,
    ValueError,
    TypeError,
    KeyError,
)


def _fail(args, code: int, message: str) -> int:
    if getattr(args, "debug", False):
        import traceback

        traceback.print_exc()
    print(f"lmctheory {getattr(args, 'command', '')}: error: {message}", file=sys.stderr)
    return code


def _quiet_broken_pipe() -> None:
    """stdout's reader went away: point stdout at /dev/null so the interpreter's final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def console() -> int:
    """The ``lmctheory`` program (console script and ``python -m lmctheory.cli``): :func:`main` on
    ``sys.argv`` in a process of its own, which keeps the memory it frees
    (:func:`lmctheory.runs.keep_freed_memory`).

    Returns
    -------
    int
        The exit code (as :func:`main`).

    Raises
    ------
    SystemExit
        Never: every error becomes an exit code.

    Examples
    --------
    >>> import subprocess, sys
    >>> subprocess.run([sys.executable, "-m", "lmctheory.cli", "--version"], capture_output=True).returncode
    0
    """
    from ..runs import keep_freed_memory

    keep_freed_memory()
    return main()


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return its exit code.

    Exit codes: 0 success, 1 runtime failure, 2 usage error, 130 interrupted (see the module
    docstring). Errors are one line on stderr, never a traceback (``--debug`` shows it).

    Parameters
    ----------
    argv : list of str, optional
        The arguments.

    Returns
    -------
    int
        The exit code.

    Raises
    ------
    SystemExit
        Never: every error becomes an exit code.

    Examples
    --------
    >>> from lmctheory.cli import main
    >>> main(["bounds", "--m0", "5", "--epsilon", "0.1", "--json"])  # doctest: +ELLIPSIS
    {...}
    0
    >>> main(["bounds", "--no-such-option"])
    2
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2, already printed in one line)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        from ..runs import write_json
        from ..runs._provenance import dumps

        with warnings.catch_warnings():
            warnings.simplefilter("default")
            doc, text = args.func(args)
        doc.setdefault("argv", [a for a in argv if a not in ("--json", "--quiet", "--debug")])  # for rerun
        if getattr(args, "out", None):
            write_json(args.out, doc)
        print(dumps(doc) if args.json else text, flush=True)
        return int(doc.get("exit_code") or 0)
    except BrokenPipeError:
        _quiet_broken_pipe()
        return 0
    except KeyboardInterrupt:
        print(
            f"lmctheory {args.command}: interrupted; finished configurations are kept (re-run to resume)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except _USAGE_ERRORS as exc:
        return _fail(args, EXIT_USAGE, str(exc))
    except _RUNTIME_ERRORS as exc:
        return _fail(args, EXIT_FAILURE, str(exc) or type(exc).__name__)
    except Exception as exc:  # noqa: BLE001 - a bug: still one line, with the way to see more
        return _fail(
            args,
            EXIT_FAILURE,
            f"internal error ({type(exc).__name__}: {exc}); "
            "re-run with `lmctheory --debug ...` for the traceback",
        )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
