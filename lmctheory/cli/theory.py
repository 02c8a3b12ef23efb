"""Theory subcommands: rates, rate-bound, wasserstein, dimension, bounds."""

from __future__ import annotations

import sys
import time
import warnings

from .common import (
    DEFINITIONS_W,
    UsageError,
    add_output_options,
    check_seed,
    load_points,
    parse_sizes,
    table,
    validating,
)
from .names import ESTIMATORS, LAWS, METHODS


def record(*args, **kwargs):
    from ..runs import record as make

    return make(*args, **kwargs)


def register(sub) -> None:
    """Add the theory subcommands to the ``sub`` parsers."""

    p = sub.add_parser(
        "rates",
        help="Monte-Carlo E W_p vs N with fitted slope, FG prediction and explicit bound",
        description="Monte-Carlo curve of E W_p(mu_N, nu_N) (two-sample, default) or E W_p(mu_N, mu) "
        "against N, the fitted log-log slope with a bootstrap CI next to the Fournier-Guillin "
        "prediction, and the explicit bound (Jensen: E W_p <= (bound on E W_p^p)^(1/p)).",
    )
    p.add_argument("--law", choices=LAWS, default="uniform", help="sampling law (default uniform on [0,1]^d)")
    p.add_argument("--d", type=int, default=5, help="ambient dimension (default 5)")
    p.add_argument("--k", type=int, help="subspace dimension (law=subspace)")
    p.add_argument("--eta", type=float, default=0.0, help="off-subspace noise radius (law=subspace)")
    p.add_argument("--p", type=float, default=2.0, help="Wasserstein order p >= 1 (default 2)")
    p.add_argument(
        "--ns", default="64,128,...,1024", help="sizes, e.g. 64,128,...,4096 (default 64,128,...,1024)"
    )
    p.add_argument("--reps", type=int, default=8, help="replicates per size (default 8)")
    p.add_argument(
        "--one-sample",
        action="store_true",
        help="W_p(mu_N, mu) instead of two samples (1-D or discrete laws)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-jobs", type=int, default=-1, help="worker processes (default -1: all cores)")
    p.add_argument("--method", choices=METHODS, default="auto", help="exact OT method (default auto)")
    p.add_argument("--plot", metavar="FILE.png", help="draw the log-log curve (PNG + PDF)")
    add_output_options(p)
    p.set_defaults(func=cmd_rates)

    p = sub.add_parser(
        "rate-bound",
        help="Fournier-Guillin regime, rate and explicit bound for given N, d, p (no sampling)",
        description="Table of the FG rate of E W_p^p and the explicit bound for a law supported in a cube "
        "of side 2*radius.",
    )
    p.add_argument("--d", type=int, required=True)
    p.add_argument("--p", type=float, default=2.0)
    p.add_argument("--ns", default="64,128,...,4096")
    p.add_argument(
        "--radius", type=float, default=0.5, help="half-side of the support cube (default 0.5: [0,1]^d)"
    )
    p.add_argument(
        "--two-sample", action="store_true", help="bound E W_p^p(mu_N, nu_N) instead of E W_p^p(mu_N, mu)"
    )
    add_output_options(p)
    p.set_defaults(func=cmd_rate_bound)

    p = sub.add_parser(
        "wasserstein",
        help="exact W_p (or sliced SW_p) between two point files (.npy, .npz, .csv, .txt)",
        description="Exact W_p between the empirical measures of the rows of two files. "
        ".npy: one array; .npz: array 'x' (or the only array); .csv/.txt: numbers, one point per row.",
    )
    p.add_argument("x", help="first point file")
    p.add_argument("y", help="second point file")
    p.add_argument("--p", type=float, default=2.0)
    p.add_argument("--method", choices=METHODS, default="auto")
    p.add_argument(
        "--sliced", type=int, metavar="L", help="sliced W_p with L random directions instead of exact W_p"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the sliced directions")
    p.add_argument("--match", action="store_true", help="also output the optimal matching (equal sizes)")
    add_output_options(p)
    p.set_defaults(func=cmd_wasserstein)

    p = sub.add_parser(
        "dimension",
        help="intrinsic dimension of a point cloud (rows = points), or the truth-vs-estimate benchmark",
        description="Intrinsic-dimension estimates of the rows of FILE (.npy, .npz, .csv, .txt), each with "
        "n, ambient D and the estimator's reliability threshold; --benchmark runs every estimator on "
        "built-in manifolds of known dimension.",
    )
    p.add_argument("file", nargs="?", help="point cloud file (omit with --benchmark)")
    p.add_argument("--estimator", choices=[*ESTIMATORS, "all"], default="all", help="default: all")
    p.add_argument("--benchmark", action="store_true", help="truth-vs-estimate table on built-in manifolds")
    p.add_argument("--ns", default="500,2000", help="benchmark sample sizes (default 500,2000)")
    p.add_argument("--Ds", default="10,50", help="benchmark ambient dimensions (default 10,50)")
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the benchmark data and of WassersteinDimension"
    )
    add_output_options(p)
    p.set_defaults(func=cmd_dimension)

    p = sub.add_parser(
        "bounds",
        help="width bounds for epsilon-LMC: per-layer table, or the epsilon a given width guarantees",
        description="Width bounds for linear mode connectivity (log10 widths; towers like 10^10^784 when "
        "they exceed floats). Constants the papers do not publish (C, T) default to 1: shape only.",
    )
    p.add_argument("--epsilon", type=float, default=0.1, help="target error epsilon (default 0.1)")
    p.add_argument("--m0", type=int, required=True, help="input dimension m0")
    p.add_argument("--depth", type=int, default=1, help="number of hidden layers (default 1)")
    p.add_argument("--k", type=int, help="dimension of the low-dimensional support (with --eta)")
    p.add_argument("--eta", type=float, help="distance of the weights to the k-dim subspace (with --k)")
    p.add_argument("--width", type=float, help="actual width: check it, and print the epsilon it guarantees")
    p.add_argument("--p", type=float, default=2.0, help="Wasserstein order of the rate (default 2)")
    p.add_argument("--C", type=float, default=1.0, help="constant of the two-layer bounds (default 1)")
    p.add_argument("--T", type=float, default=1.0, help="per-layer constant of the recursion (default 1)")
    p.add_argument("--radius", type=float, default=1.0, help="incoming weights in [-radius, radius]^m0")
    p.add_argument("--F", type=float, help="density bound of the lower bound (default (2 radius)^-m0)")
    p.add_argument("--latex", action="store_true", help="print the bounds' formulas in LaTeX")
    add_output_options(p)
    p.set_defaults(func=cmd_bounds)


def cmd_rates(args):
    import numpy as np

    from ..rates import make_law, rate_report
    from ..utils.validation import check_p, check_positive_int

    with validating():
        check_seed(args.seed)
        ns = parse_sizes(args.ns)
        law = make_law(args.law, args.d, k=args.k, eta=args.eta)
        check_p(args.p)
        check_positive_int(args.reps, "reps")
        if args.one_sample and not getattr(law, "has_exact_reference", False):
            raise UsageError(
                f"--one-sample (two_sample=False) needs a law with an exact one-sample reference (discrete laws, or "
                f"laws on the line); {law!r} has none: drop --one-sample"
            )
    report = rate_report(
        law,
        ns,
        p=args.p,
        reps=args.reps,
        two_sample=not args.one_sample,
        seed=args.seed,
        n_jobs=args.n_jobs,
        method=args.method,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    curve, fit, result = report.curve, report.fit, report.to_dict()
    config = {
        "law": law.describe(),
        "p": args.p,
        "ns": ns,
        "reps": args.reps,
        "two_sample": not args.one_sample,
        "method": args.method,
        "n_jobs": args.n_jobs,
    }
    doc = record(
        "rates", config, result, seed=args.seed, definitions=report.definitions, seconds=curve.seconds
    )
    if args.plot:
        from ..plotting import plot_rate_curve, save_figure

        fig = plot_rate_curve(
            curve,
            fit,
            predicted_slope=report.predicted_slope,
            bound=report.bound_w,
            title=f"{args.law}, d={args.d}, p={args.p:g}",
        )
        doc["plots"] = [str(p) for p in save_figure(fig, args.plot)]
    kind = "two-sample W_p(mu_N, nu_N)" if not args.one_sample else "one-sample W_p(mu_N, mu)"
    text = [f"{kind}, law {law!r}, p={args.p:g}, {args.reps} replicates, {curve.seconds:.1f} s", ""]
    text.append(
        table(
            ["N", "mean W_p", "std", "mean W_p^p", "bound E W_p"],
            [[r["n"], r["mean_W"], r["std_W"], r["mean_W_pow_p"], r["bound_W"]] for r in result["rows"]],
        )
    )
    if report.sharp:
        where = "inside" if report.prediction_inside else "outside"
        verdict = f"  (prediction {where} the CI; expect slightly steeper at N <= 2^11)"
    else:
        verdict = f"  (regime {report.regime}: rate not sharp, reported as a measurement only)"
    text += [
        "",
        f"fitted slope {fit.slope:.4f}  {fit.confidence:.0%} CI [{fit.ci_low:.4f}, {fit.ci_high:.4f}]",
        f"predicted    {report.predicted_slope:.4f}  (FG regime {report.regime}, dimension "
        f"{report.slope_dimension})" + verdict,
    ]
    if report.bound_cost is not None:
        text.append(
            f"explicit bound respected at every N: {report.bound_respected} "
            f"(tightest ratio bound/measured {float(np.min(report.bound_cost / curve.mean_cost)):.1f})"
        )
    if args.plot:
        text.append(f"plot: {', '.join(doc['plots'])}")
    return doc, "\n".join(text)


def cmd_rate_bound(args):
    import numpy as np

    from ..rates import fg_explicit_bound, fg_explicit_bound_w, fg_rate, fg_regime
    from ..utils.validation import check_positive_real

    with validating():
        ns = parse_sizes(args.ns)
        regime = fg_regime(args.d, args.p)
        check_positive_real(args.radius, "radius")
    with np.errstate(under="ignore", over="ignore"):
        rate = np.atleast_1d(fg_rate(ns, args.d, args.p))
    kw = {"two_sample": args.two_sample, "radius": args.radius}
    bound = np.atleast_1d(fg_explicit_bound(ns, args.d, args.p, **kw))
    bound_w = np.atleast_1d(fg_explicit_bound_w(ns, args.d, args.p, **kw))
    rows = [
        {"n": n, "fg_rate": float(r), "bound_W_pow_p": float(b), "bound_W": float(w)}
        for n, r, b, w in zip(ns, rate, bound, bound_w, strict=True)
    ]
    config = {"d": args.d, "p": args.p, "ns": ns, "radius": args.radius, "two_sample": args.two_sample}
    definitions = {
        **DEFINITIONS_W,
        "fg_rate": "Fournier-Guillin rate of E W_p^p without constant: N^-1/2, N^-1/2 log(1+N) or N^-p/d",
        "bound_W_pow_p": "explicit bound on E W_p^p for a law in a cube of side 2*radius (docs: theory-fg-explicit)",
        "bound_W": "(bound_W_pow_p)^(1/p), a bound on E W_p by Jensen",
    }
    doc = record("rate-bound", config, {"regime": regime, "rows": rows}, definitions=definitions)
    head = f"FG regime {regime} (d={args.d}, p={args.p:g}), cube of side {2 * args.radius:g}, " + (
        "two samples" if args.two_sample else "one sample"
    )
    text = table(
        ["N", "FG rate", "bound E W_p^p", "bound E W_p"],
        [[r["n"], r["fg_rate"], r["bound_W_pow_p"], r["bound_W"]] for r in rows],
    )
    return doc, head + "\n\n" + text


def cmd_wasserstein(args):
    from ..ot import memory_budget, optimal_matching, sliced_wasserstein, transport
    from ..utils.validation import as_points, check_p, check_positive_int

    with validating():
        check_seed(args.seed)
        x, y = load_points(args.x), load_points(args.y)
        as_points(x, args.x), as_points(y, args.y)  # finite values
        check_p(args.p)
        memory_budget()  # LMCTHEORY_MAX_BYTES, if set, is a number of bytes
        if args.sliced is not None:
            check_positive_int(args.sliced, "--sliced")
    start = time.perf_counter()
    config = {"x": args.x, "y": args.y, "p": args.p}
    if args.sliced is not None:
        value = sliced_wasserstein(x, y, args.p, n_projections=args.sliced, seed=args.seed)
        result = {"sliced_distance": value, "n_projections": args.sliced}
        config.update(method="sliced", n_projections=args.sliced)
        text = f"SW_{args.p:g} = {value:.6g}  ({args.sliced} directions, seed {args.seed})"
    else:
        res = transport(x, y, args.p, method=args.method)
        result = res.to_dict()
        config["method"] = args.method
        text = (
            f"W_{args.p:g} = {res.distance:.10g}   W_{args.p:g}^{args.p:g} = {res.cost:.10g}   "
            f"(method {res.method}, n={res.n}, m={res.m}, d={res.d})"
        )
        if args.match:
            perm, _ = optimal_matching(x, y, args.p)
            result["perm"] = perm.tolist()
            text += "\nperm: " + " ".join(map(str, perm.tolist()))
    definitions = {
        **DEFINITIONS_W,
        "SW_p": "(mean over random unit directions of W_p^p of the projections)^(1/p)",
    }
    doc = record(
        "wasserstein",
        config,
        result,
        seed=args.seed if args.sliced else None,
        definitions=definitions,
        seconds=time.perf_counter() - start,
    )
    return doc, text


def _estimators(name: str, seed: int):
    from ..dimension import ESTIMATORS, WassersteinDimension

    names = list(ESTIMATORS) if name == "all" else [name]
    return {
        n: (WassersteinDimension(random_state=seed) if n == "wasserstein" else ESTIMATORS[n]()) for n in names
    }


def _estimate(est, X) -> dict:
    """Fit one estimator; failures (too few points...) become an 'error' entry, warnings are kept."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = est.fit(X).summary()
        except ValueError as exc:
            return {
                "estimator": type(est).__name__,
                "params": est.get_params(),
                "dimension": None,
                "error": str(exc),
            }
    out["warnings"] = [str(w.message) for w in caught]
    return out


def cmd_dimension(args):
    from ..dimension import benchmark_suite

    with validating():
        check_seed(args.seed)
        estimators = _estimators(args.estimator, args.seed)
        if args.benchmark and args.file:
            raise UsageError("give either FILE or --benchmark, not both")
        if not args.benchmark and not args.file:
            raise UsageError("give a point-cloud FILE, or --benchmark")
        if args.benchmark:
            ns, Ds = parse_sizes(args.ns), parse_sizes(args.Ds)
        else:
            X = load_points(args.file)
    definitions = {
        "dimension": "intrinsic-dimension estimate of the cloud of rows (see lmctheory.dimension)",
        "reliability_threshold": "dimension above which an estimate from n points is biased low, not a ceiling "
        "(log2 n for kNN, 2 log10 n for correlation; for spectral estimators the rank "
        "cap n or n-1 when below D)",
    }
    if args.benchmark:
        rows, start = [], time.perf_counter()
        for name, truth, n, D, X in benchmark_suite(ns, Ds, seed=args.seed):
            est = {k: _estimate(e, X)["dimension"] for k, e in estimators.items()}
            rows.append({"manifold": name, "d": truth, "n": n, "D": D, "estimates": est})
        config = {
            "benchmark": True,
            "ns": ns,
            "Ds": Ds,
            "estimators": {k: e.get_params() for k, e in estimators.items()},
        }
        doc = record(
            "dimension",
            config,
            {"rows": rows},
            seed=args.seed,
            definitions=definitions,
            seconds=time.perf_counter() - start,
        )
        text = table(
            ["manifold", "d", "n", "D", *estimators],
            [[r["manifold"], r["d"], r["n"], r["D"], *r["estimates"].values()] for r in rows],
        )
        return doc, text
    start = time.perf_counter()
    results = [_estimate(e, X) for e in estimators.values()]
    config = {"file": args.file, "estimators": {k: e.get_params() for k, e in estimators.items()}}
    doc = record(
        "dimension",
        config,
        {"estimates": results},
        seed=args.seed,
        definitions=definitions,
        seconds=time.perf_counter() - start,
    )
    rows = [
        [
            r["estimator"],
            r["dimension"],
            r.get("n_points"),
            r.get("n_features"),
            r.get("reliability_threshold"),
            r.get("error") or "; ".join(r.get("warnings", [])) or "",
        ]
        for r in results
    ]
    return doc, table(["estimator", "dimension", "n", "D", "reliable up to", "note"], rows)


def cmd_bounds(args):
    from ..bounds import width_report

    if (args.k is None) != (args.eta is None):
        raise UsageError("--k and --eta go together (a support of dimension k within eta)")
    with validating():  # closed-form bounds: what can fail is only the arguments' domain
        report = width_report(
            args.epsilon,
            args.m0,
            args.depth,
            k=args.k,
            eta=args.eta,
            width=args.width,
            p=args.p,
            C=args.C,
            T=args.T,
            radius=args.radius,
            F=args.F,
        )
    rows, two_layer, result, definitions = (
        report.layers,
        report.two_layer,
        report.to_dict(),
        report.definitions,
    )
    config = {
        k: getattr(args, k)
        for k in ("epsilon", "m0", "depth", "k", "eta", "width", "p", "C", "T", "radius", "F")
    }
    doc = record("bounds", config, result, definitions=definitions)
    if args.latex:
        return doc, "\n".join(f"{name}: {formula}" for name, formula in report.latex().items())
    head = (
        f"epsilon = {args.epsilon:g}, m0 = {args.m0}, depth = {args.depth} (C = {args.C:g}, T = {args.T:g}: "
        "shape-only constants unless calibrated)"
    )
    cols = ["layer", "upper (recursion)", "explicit upper", "lower (needed)", "effective"]
    table_rows = [
        [
            r["layer"],
            str(r["upper"]),
            str(r["explicit_upper"] or "-"),
            str(r["lower"] or "-"),
            str(r["effective"]),
        ]
        for r in rows
    ]
    if args.width is not None:
        cols.append(f"width {args.width:g} ok?")
        for tr, r in zip(table_rows, rows, strict=True):
            tr.append(
                " ".join(
                    f"{k[10:]}:{'yes' if v else 'no'}"
                    for k, v in r.items()
                    if k.startswith("satisfies_") and v is not None
                )
            )
    lines = [
        head,
        "",
        table(cols, table_rows),
        "",
        "two-layer widths: " + ", ".join(f"{k} {v}" for k, v in two_layer.items()),
    ]
    if args.epsilon >= min(args.C, args.T):
        lines.append(
            f"(epsilon {args.epsilon:g} >= C or T: the shape bounds are met by every width, reported as 1)"
        )
    if args.width is not None:
        lines.append(
            f"epsilon at width {args.width:g} (upper bounds: guaranteed; lower: cannot be beaten): "
            + ", ".join(f"{k} {v:.4g}" for k, v in result["epsilon_at_width"].items())
        )
    return doc, "\n".join(lines)
