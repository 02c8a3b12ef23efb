"""Command-line interface: ``lmctheory <subcommand> ...``.

Every subcommand prints a human table by default and exactly one JSON
document on stdout with ``--json`` (warnings and progress go to stderr);
``--out FILE`` also writes that document atomically. Errors are one line on
stderr and exit code 2, never a traceback. Subcommands live in
:mod:`lmctheory.cli.theory` (rates, rate-bound, wasserstein, dimension, bounds)
and :mod:`lmctheory.cli.networks` (train, barrier), :mod:`lmctheory.cli.validate` (validate) and
:mod:`lmctheory.cli.figures` (figures), :mod:`lmctheory.cli.rerun` (rerun). Every document records
its ``argv`` so that ``lmctheory rerun FILE`` can recompute it.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from .. import __version__
from ..exceptions import ConvergenceError, ProblemTooLargeError
from ..provenance import dumps, write_json
from . import figures, networks, rerun, theory, validate
from .common import EXIT_USAGE, load_points, parse_int_list, parse_sizes

__all__ = ["build_parser", "main", "parse_sizes", "parse_int_list", "load_points"]


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr (exit 2), like every other error of the CLI."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lmctheory",
        description="Linear mode connectivity theory, computable: Wasserstein rates, intrinsic dimension, "
        "width bounds, alignment and barriers.",
    )
    parser.add_argument("--version", action="version", version=f"lmctheory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    theory.register(sub)
    networks.register(sub)
    validate.register(sub)
    figures.register(sub)
    rerun.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            doc, text = args.func(args)
        doc.setdefault("argv", [a for a in argv if a not in ("--json", "--quiet")])  # `lmctheory rerun` needs it
        if getattr(args, "out", None):
            write_json(args.out, doc)
        print(dumps(doc) if args.json else text)
        if doc.get("exit_code"):
            return int(doc["exit_code"])
    except (ValueError, TypeError, ConvergenceError, ProblemTooLargeError, OSError, NotImplementedError,
            KeyError) as exc:
        print(f"lmctheory {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
