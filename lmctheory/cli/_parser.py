"""The ``lmctheory`` argument parser: the built-in subcommands and those installed distributions register.

A distribution adds subcommands by declaring, in the entry-point group ``lmctheory.cli``, a function
``register(subparsers)`` that adds its parsers (``subparsers.add_parser(...)``) and sets ``func``, a function
``args -> (document, text)``. The registering modules must import nothing heavy: ``lmctheory --help`` loads
them all.
"""

from __future__ import annotations

import argparse

from .. import __version__
from . import align, networks, rerun, theory
from .common import EXIT_USAGE

__all__ = ["build_parser", "ENTRY_POINT_GROUP"]

#: the entry-point group of the subcommands installed distributions add
ENTRY_POINT_GROUP = "lmctheory.cli"


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr (exit 2), like every other error of the CLI; options must be
    spelled out in full (an abbreviation such as ``--plo`` is an error, not ``--plot``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _version_text() -> str:
    from ..runs import git_revision

    git = git_revision()
    if git is None:
        return f"lmctheory {__version__}"
    return f"lmctheory {__version__} (git {git['commit'][:12]}{', modified' if git['dirty'] else ''})"


class _VersionAction(argparse.Action):
    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(_version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The ``lmctheory`` argument parser with every subcommand registered.

    Abbreviated options are refused (``allow_abbrev=False``); usage errors are one line.

    Returns
    -------
    argparse.ArgumentParser
        The parser.

    Examples
    --------
    >>> from lmctheory.cli import build_parser
    >>> args = build_parser().parse_args(["bounds", "--m0", "5", "--epsilon", "0.1"])
    >>> args.command, args.m0
    ('bounds', 5)
    """
    parser = _Parser(
        prog="lmctheory",
        description="Linear mode connectivity theory, computable: Wasserstein rates, intrinsic dimension, "
        "width bounds, alignment and barriers. Exit codes: 0 success, 1 runtime failure, 2 usage error, "
        "130 interrupted.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version (from git) and exit")
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    theory.register(sub)
    networks.register(sub)
    align.register(sub)
    rerun.register(sub, build_parser)
    for entry_point in _installed_subcommands():
        entry_point.load()(sub)
    return parser


def _installed_subcommands() -> list:
    """The entry points of the group ``lmctheory.cli``, by name (so that ``--help`` lists them in order)."""
    from importlib.metadata import entry_points

    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
