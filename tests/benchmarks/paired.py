"""Paired rounds: the timing scheme of the benchmarks that compare two runs whose ratio matters.

Each round runs every contender once, in an order reversed every other round, so that drift in
the machine's speed over a run (20-50% on the shared VM) hits all of them alike; the report gives
the ratio of medians and the spread of the per-round ratios (tests/benchmarks/report.py).
"""

import itertools
import time


def timed(fn):
    """A contender for :func:`paired_rounds` that times ``fn()`` with a wall clock."""

    def run():
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    return run


def paired_rounds(benchmark, contenders: dict, rounds: int, warmup_rounds: int = 0) -> dict[str, list[float]]:
    """Run ``rounds`` rounds (after ``warmup_rounds``) under pytest-benchmark; ``contenders`` maps a
    name to a callable returning the seconds it measured. Returns each name's seconds per measured
    round (warm-up rounds dropped)."""
    names = list(contenders)
    seconds = {name: [] for name in names}
    orders = itertools.cycle([names, names[::-1]])

    def one_round():
        for name in next(orders):
            seconds[name].append(contenders[name]())

    benchmark.pedantic(one_round, rounds=rounds, iterations=1, warmup_rounds=warmup_rounds)
    return {name: times[-rounds:] for name, times in seconds.items()}
