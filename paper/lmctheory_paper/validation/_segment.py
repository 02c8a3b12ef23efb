"""The barrier over every t in [0, 1] for the experiments: the certified enclosure of the supremum and
the endpoint bound on it, in one record-ready dict."""

from __future__ import annotations

import numpy as np

from lmctheory.lmc import certified_path_sup, endpoint_barrier_bound

from .report import Row, every_at_most, measurement

#: the endpoint bound's sub-intervals in the experiments: 8 equal ones, then 4 bisections of the worst (each sub-interval
#: costs a back-substitution; the benchmarks show the tightness of the defaults, 32 + 64)
ENDPOINT_INTERVALS, ENDPOINT_REFINE = 8, 8


def segment_barrier(
    model_a, model_b, data, *, loss: str = "auto", error_reference: str | None = None
) -> dict:
    """Loss barrier above the chord over [0, 1]: ``barrier`` (certified upper bound of the supremum, the
    barrier the experiments report), ``barrier_attained`` (the largest value the path attains at an
    evaluated t), ``barrier_converged`` (gap within 1e-4 or 1 %, every metric), ``sup_intervals`` and
    ``endpoint_bound`` (:func:`lmctheory.lmc.endpoint_barrier_bound`); with ``error_reference``
    ("chord" or "mean") also the error's ``error_barrier`` and ``error_barrier_attained`` above it."""
    metrics = ("loss",) if error_reference is None else ("loss", "error")
    references = {"loss": "chord", "error": error_reference}
    sup = certified_path_sup(
        model_a, model_b, data, metrics=metrics, reference={m: references[m] for m in metrics}, loss=loss
    )
    endpoint = endpoint_barrier_bound(
        model_a, model_b, data, intervals=ENDPOINT_INTERVALS, refine=ENDPOINT_REFINE, loss=loss
    )
    out = {
        "barrier": sup["loss"].upper,
        "barrier_attained": sup["loss"].lower,
        "barrier_converged": all(s.converged for s in sup.values()),
        "sup_intervals": sup["loss"].intervals,
        "endpoint_bound": endpoint.upper,
    }
    if error_reference is not None:
        out["error_barrier"], out["error_barrier_attained"] = sup["error"].upper, sup["error"].lower
    return out


def bound_ratio(value: float, bound: float) -> float:
    """value / bound, with 0 / 0 = 0 (identical endpoints) and v / 0 = inf for v > 0 (a violated bound)."""
    return value / bound if bound > 0 else (0.0 if value <= 0 else float("inf"))


def segment_rows(experiment: str, label: str, widths, results: list[dict]) -> list[Row]:
    """Per group of records holding :func:`segment_barrier`'s lists (one value per width):

    * check: the largest barrier attained on [0, 1] never exceeds the endpoint bound (every width and
      seed; the bound is rigorous, so a value above it is a bug);
    * measurement: the endpoint bound, and per width its mean next to the certified barrier's.
    """
    attained = [a for x in results for a in x["barrier_attained"]]
    bounds = [b for x in results for b in x["endpoint_bound"]]
    barrier = np.mean([x["barrier"] for x in results], 0)
    endpoint = np.mean([x["endpoint_bound"] for x in results], 0)
    return [
        every_at_most(
            experiment,
            f"loss barrier over [0, 1] / endpoint bound, {label}",
            "theory-endpoint-bound (every t in [0, 1])",
            1.0,
            [bound_ratio(a, b) for a, b in zip(attained, bounds, strict=True)],
            details={"unit": "one (seed, width)"},
        ),
        measurement(
            experiment,
            f"endpoint bound and certified barrier over [0, 1] by width, {label}",
            "endpoint bound over [0, 1] (per width in the details, next to the certified barrier)",
            bounds,
            why="tightness of a rigorous bound: nothing to compare it with",
            details={
                "widths": list(widths),
                "barrier_by_width": barrier.tolist(),
                "endpoint_bound_by_width": endpoint.tolist(),
                "converged": bool(all(c for x in results for c in x["barrier_converged"])),
            },
        ),
    ]
