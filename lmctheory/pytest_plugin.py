"""pytest plugin: a research repository's theoretical claims as tests.

Installed with lmctheory and registered through the ``pytest11`` entry point ``lmctheory``: any pytest
run in an environment with lmctheory has the ``claim`` fixture. A test builds a row with
:mod:`lmctheory.claims` from its own measurements (seeds, pairs) and hands it over::

    from lmctheory.claims import direction

    def test_wider_nets_have_lower_barriers(claim, barriers):      # barriers: your fixture
        claim(direction("my-study", "barrier falls from width 64 to 256", "b(64) - b(256) > 0",
                        barriers[64] - barriers[256], fails_if="the mean difference is <= 0"))

The row's verdict becomes the test's outcome: ``holds`` and ``reported`` (a measurement) pass; ``fails``
fails the test with the rule and its numbers; ``inconclusive`` is skipped by default, or follows
``--lmctheory-inconclusive`` / the ini option ``lmctheory_inconclusive``: ``skip``, ``fail``, ``xfail``
or ``pass``. Borderline rows (:func:`lmctheory.claims.verdicts.borderline`) keep their verdict's outcome and are
named in the terminal summary. The summary lists every claim of the session; ``--lmctheory-report DIR``
also writes ``DIR/claims.json`` and ``DIR/claims.md`` (:func:`lmctheory.claims.write_report`). Rows
travel with the test reports (``user_properties``), so pytest-xdist workers' claims are summarised too.
"""

from __future__ import annotations

import json

import pytest

INCONCLUSIVE = ("skip", "fail", "xfail", "pass")
_KEY = "lmctheory_row"


def pytest_addoption(parser):
    group = parser.getgroup("lmctheory", "theoretical claims as tests (lmctheory.claims)")
    group.addoption(
        "--lmctheory-inconclusive",
        choices=INCONCLUSIVE,
        default=None,
        help="outcome of a claim whose verdict is inconclusive (default: the ini option, else skip)",
    )
    group.addoption(
        "--lmctheory-report",
        metavar="DIR",
        default=None,
        help="write every claim of the session to DIR/claims.json and DIR/claims.md",
    )
    parser.addini(
        "lmctheory_inconclusive",
        "outcome of an inconclusive claim: skip, fail, xfail or pass (default skip)",
        default="skip",
    )


def _inconclusive_outcome(config) -> str:
    value = config.getoption("--lmctheory-inconclusive") or config.getini("lmctheory_inconclusive")
    if value not in INCONCLUSIVE:
        raise pytest.UsageError(
            f"lmctheory_inconclusive must be one of {', '.join(INCONCLUSIVE)}, got {value!r}"
        )
    return value


def _describe(row) -> str:
    stat = row.statistic or {}
    p = f", p = {stat['p_value']:.3g}" if stat.get("p_value") is not None else ""
    q = f", opposite p = {stat['p_value_opposite']:.3g}" if stat.get("p_value_opposite") is not None else ""
    flag = " (borderline)" if row.borderline else ""
    measured = f"{row.measured:.4g} ± {row.measured_std:.2g} (n={row.n_seeds})"
    return (
        f"claim {row.verdict}{flag}: {row.prediction} [{row.experiment}]: measured {measured}; "
        f"{row.rule}{p}{q}" + (f"; fails if {row.fails_if}" if row.fails_if else "")
    )


@pytest.fixture
def claim(request):
    """Check a row of :mod:`lmctheory.claims`: its verdict becomes the test's outcome (see the module)."""
    from lmctheory.claims import Row

    outcome = _inconclusive_outcome(request.config)

    def check(row: Row) -> Row:
        if not isinstance(row, Row):
            raise TypeError(f"claim() takes a lmctheory.claims.Row, got {type(row).__name__}")
        request.node.user_properties.append((_KEY, json.dumps(row.to_dict(), allow_nan=True)))
        if row.verdict == "fails":
            pytest.fail(_describe(row), pytrace=False)
        if row.verdict == "inconclusive":
            if outcome == "fail":
                pytest.fail(_describe(row), pytrace=False)
            if outcome == "skip":
                pytest.skip(_describe(row))
            if outcome == "xfail":
                pytest.xfail(_describe(row))
        return row

    return check


class _Collector:
    """Rows gathered from the test reports (in the controller when pytest-xdist runs workers)."""

    def __init__(self):
        self.rows: list[tuple[str, dict]] = []

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report):
        if report.when != "call" and not (report.when == "setup" and report.skipped):
            return
        for key, value in getattr(report, "user_properties", ()):
            if key == _KEY:
                self.rows.append((report.nodeid, json.loads(value)))


def pytest_configure(config):
    _inconclusive_outcome(config)  # a bad setting is a usage error before any test runs
    config.pluginmanager.register(_Collector(), "lmctheory-claims-collector")


def _rows(config):
    from lmctheory.claims import Row

    collector = config.pluginmanager.get_plugin("lmctheory-claims-collector")
    return [(nodeid, Row.from_dict(doc)) for nodeid, doc in (collector.rows if collector else [])]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from lmctheory.claims import summary_line

    rows = _rows(config)
    if not rows:
        return
    terminalreporter.section("lmctheory claims")
    terminalreporter.write_line(summary_line([row for _, row in rows]))
    for nodeid, row in rows:
        terminalreporter.write_line(f"{nodeid}: {_describe(row)}")


def pytest_sessionfinish(session, exitstatus):
    from pathlib import Path

    from lmctheory.claims import write_report

    config = session.config
    directory = config.getoption("--lmctheory-report")
    if not directory or hasattr(config, "workerinput"):  # an xdist worker: the controller writes it
        return
    rows = _rows(config)
    Path(directory).mkdir(parents=True, exist_ok=True)
    write_report(
        [row for _, row in rows],
        directory,
        config={"source": "pytest", "tests": [nodeid for nodeid, _ in rows]},
        name="claims",
        title="Claims",
    )
