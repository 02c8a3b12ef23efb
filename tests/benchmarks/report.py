"""Turn pytest-benchmark JSON files into the benchmark tables (docs page and README block).

Usage: python tests/benchmarks/report.py [--page FILE] [--readme README.md] results/benchmarks/*.json
Ratios are peer time / lmctheory time on the same inputs in the same run
(> 1 means lmctheory is faster).
"""

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np


def fitted_exponent(sizes, times):
    """Least-squares slope of log(time) against log(size)."""
    return float(np.polyfit(np.log(sizes), np.log(times), 1)[0])


def paired_cells(ours, theirs, *, digits: int, spread: tuple[float, float], bold: bool = True) -> list[str]:
    """Cells for paired rounds: median times, the ratio of medians (theirs / ours) and the given
    percentiles of the per-round ratios."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    low, high = np.percentile(theirs / ours, spread)
    ratio = f"{np.median(theirs) / np.median(ours):.2f}"
    return [
        f"{np.median(ours):.{digits}f}",
        f"{np.median(theirs):.{digits}f}",
        f"**{ratio}**" if bold else ratio,
        f"{low:.2f}-{high:.2f}",
    ]


def wasserstein_table(benchmarks):
    by_n, sliced = defaultdict(dict), None
    for bench in benchmarks:
        info = bench["extra_info"]
        if info.get("solver") == "sliced_200":
            sliced = (bench["stats"]["median"], info)
        else:
            by_n[info["n"]][info["solver"]] = (bench["stats"]["median"], info.get("relative_error"))
    lines = [
        "| n (d=10) | lmctheory (s) | SciPy LAP / ours | POT exact / ours | fastest exact peer / ours | "
        "POT default / ours | POT default rel. error |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in sorted(by_n):
        row = by_n[n]
        t = row["lmctheory"][0]
        fastest = min(row["scipy_lsa"][0], row["pot_emd2_exact"][0])
        lines.append(
            f"| {n} | {t:.3f} | {row['scipy_lsa'][0] / t:.2f} | {row['pot_emd2_exact'][0] / t:.2f} | "
            f"**{fastest / t:.2f}** | {row['pot_emd2_default'][0] / t:.2f} | "
            f"{row['pot_emd2_default'][1]:.1e} |"
        )
    ns = sorted(by_n)
    if len(ns) >= 2:
        lines.append("")
        lines.append("| solver | fitted exponent of time vs n | algorithm |")
        lines.append("|---|---|---|")
        for solver, algorithm in (
            ("lmctheory", "O(n^3) worst case (Jonker-Volgenant) + O(n^2) certificate"),
            ("scipy_lsa", "O(n^3) worst case (shortest augmenting path)"),
            ("pot_emd2_exact", "network simplex, O(n^3 log n) typical"),
        ):
            times = [by_n[n][solver][0] for n in ns]
            lines.append(f"| {solver} | {fitted_exponent(ns, times):.2f} | {algorithm} |")
    if sliced:
        t, info = sliced
        exact_t = by_n.get(info["n"], {}).get("lmctheory", (float("nan"),))[0]
        lines.append(
            f"\nsliced W_2 (200 directions) at n={info['n']}: {t:.3f} s ({exact_t / t:.0f}x less than "
            f"exact); SW_2 = {info['sliced']:.4f}, W_2 = {info['exact']:.4f}"
        )
    return lines


def dimension_table(benchmarks):
    lines = [
        "| estimator | n (D=50) | regime | lmctheory (s) | scikit-dimension (s) | ratio of medians | "
        "paired ratios (min-max) | estimate (both) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    regime = lambda b: b["extra_info"].get("regime", "fresh process")  # noqa: E731
    for bench in sorted(
        benchmarks, key=lambda b: (b["extra_info"]["estimator"], b["extra_info"]["n"], regime(b))
    ):
        info = bench["extra_info"]
        cells = paired_cells(info["lmctheory_seconds"], info["skdim_seconds"], digits=2, spread=(0, 100))
        lines.append(
            f"| {info['estimator']} | {info['n']} | {regime(bench)} | {' | '.join(cells)} | {info['dimension']:.4f} |"
        )
    return lines


def knn_table(benchmarks):
    cells = defaultdict(dict)
    for bench in benchmarks:
        info = bench["extra_info"]
        cells[info["knn"]][info["solver"]] = (bench["stats"]["median"], bench["stats"]["min"])
    lines = [
        "| k-NN search, k = 20 | lmctheory (s) | scikit-learn (s) | ratio of medians | ratio of minima |",
        "|---|---|---|---|---|",
    ]
    for case, row in cells.items():
        (ours, ours_min), (theirs, theirs_min) = row["lmctheory"], row["sklearn"]
        lines.append(
            f"| {case} | {ours:.3f} | {theirs:.3f} | {theirs / ours:.2f} | {theirs_min / ours_min:.2f} |"
        )
    return lines


def nn_table(benchmarks):
    cells = {}
    infos = {}
    for bench in benchmarks:
        info = bench["extra_info"]
        infos[(info["kind"], info["solver"])] = info
        cells[(info["kind"], info["solver"])] = info.get("inner_median_seconds", bench["stats"]["median"])
        cells[(info["kind"], info["solver"], "min")] = info.get("inner_min_seconds", bench["stats"]["min"])
    lines = [
        "| comparison | lmctheory (s) | baseline (s) | ratio of medians | ratio of minima |",
        "|---|---|---|---|---|",
    ]
    comparisons = []
    for kind, solver in sorted(infos):
        if kind.startswith("matching ") and solver == "lmctheory" and (kind, "rebasin") in infos:
            ours, theirs = infos[(kind, solver)], infos[(kind, "rebasin")]
            outcome = ", ".join(
                f"{name} {'recovers it' if i['recovered'] else 'does not recover it'}"
                for name, i in (("ours", ours), ("rebasin", theirs))
            )
            if "objective" in ours and "objective" in theirs:
                outcome += f"; rebasin's objective / ours {theirs['objective'] / ours['objective']:.4f}"
            comparisons.append(
                (
                    kind,
                    "lmctheory",
                    "rebasin",
                    f"weight matching {ours['model']} vs rebasin (planted, fresh process: {outcome})",
                )
            )
    comparisons += [
        (
            "wide",
            "lmctheory",
            "scipy_lap",
            "weight matching 784-4096-10 (independent nets): ours vs the same with SciPy's LAP",
        ),
    ]
    comparisons.append(("ensemble", "vectorised", "sequential", "16 MLPs: vectorised vs sequential"))
    for backend in ("dask", "joblib"):
        comparisons.append(
            (
                f"sweep {backend}",
                "2 workers",
                "1 workers",
                f"sweep of 24 configs, {backend}: 2 workers vs 1 (throughput ratio)",
            )
        )
    for kind, ours, base, label in comparisons:
        if (kind, ours) in cells and (kind, base) in cells:
            a, b = cells[(kind, ours)], cells[(kind, base)]
            mins = cells[(kind, base, "min")] / cells[(kind, ours, "min")]
            lines.append(f"| {label} | {a:.3f} | {b:.3f} | {b / a:.2f} | {mins:.2f} |")
    return lines


PATH_MODES = {
    "auto": "auto",
    "first_layer": "first_layer",
    "vmap": "vmap",
    "loop": "loop",
    "gemm_floor": "floor: the GEMMs of layers 2..L alone",
}


def path_table(benchmarks):
    """Paired rounds of one mode and the state_dict loop (tests/benchmarks/test_bench_nn.py)."""
    cells = {(b["extra_info"]["path"], b["extra_info"]["solver"]): b["extra_info"] for b in benchmarks}
    lines = [
        "| MLP, test examples (25 points) | mode | ours (s) | state_dict loop (s) | loop / ours, ratio of "
        "medians | per-round ratios (10th-90th pct) |",
        "|---|---|---|---|---|---|",
    ]
    for regime in sorted({key[0] for key in cells}):
        for mode, label in PATH_MODES.items():
            if (regime, mode) not in cells:
                continue
            info = cells[(regime, mode)]
            row = paired_cells(
                info["ours_seconds"], info["baseline_seconds"], digits=4, spread=(10, 90), bold=mode == "auto"
            )
            lines.append(f"| {regime} | {label} | {' | '.join(row)} |")
    return lines


def scaling_table(benchmarks):
    by_kind = defaultdict(list)
    for bench in benchmarks:
        info = bench["extra_info"]
        by_kind[info["kind"]].append((info["size"], bench["stats"]["median"], info["algorithm"]))
    lines = ["| scaling | sizes | times (s) | fitted exponent | algorithm |", "|---|---|---|---|---|"]
    for kind, rows in sorted(by_kind.items()):
        rows.sort()
        sizes, times = [r[0] for r in rows], [r[1] for r in rows]
        lines.append(
            f"| {kind.removeprefix('scaling ')} | {', '.join(map(str, sizes))} | "
            f"{', '.join(f'{t:.3g}' for t in times)} | {fitted_exponent(sizes, times):.2f} | {rows[0][2]} |"
        )
    return lines


def threads_table(benchmarks):
    """The main job's wall time by workers and competing load; threads per configuration."""
    cells = {
        (
            b["extra_info"]["job"],
            b["extra_info"]["workers"],
            b["extra_info"]["load"],
            b["extra_info"]["threads"],
        ): b["stats"]["median"]
        for b in benchmarks
    }
    lines = [
        "| job | workers | threads per configuration | competing CPU-bound processes | wall time (s) | "
        "ratio |",
        "|---|---|---|---|---|---|",
    ]
    main = "make demo"
    quiet1, quiet2 = cells.get((main, 1, 0, 1)), cells.get((main, 2, 0, 1))
    for (job, workers, load, threads), seconds in sorted(cells.items()):
        if job == main and (workers, load) == (2, 0) and quiet1:
            ratio = f"{quiet1 / seconds:.2f}x faster than 1 worker"
        elif job == main and load and quiet2:
            ratio = f"{seconds / quiet2:.2f}x the quiet time"
        elif job != main and (job, workers, 0, threads) in cells and load:
            ratio = f"{seconds / cells[(job, workers, 0, threads)]:.2f}x the quiet time"
        else:
            ratio = "-"
        lines.append(f"| {job} | {workers} | {threads} | {load} | {seconds:.1f} | {ratio} |")
    codes = sorted({b["extra_info"]["code"] for b in benchmarks if b["extra_info"].get("code")})
    if codes:
        lines += ["", f"Main job code: `{', '.join(codes)}` (tests/benchmarks/main_job.py)."]
    return lines


def cli_table(benchmarks):
    lines = ["| command (fresh process) | median (s) | min (s) |", "|---|---|---|"]
    for bench in benchmarks:
        lines.append(
            f"| lmctheory {bench['extra_info']['argv']} | {bench['stats']['median']:.3f} | "
            f"{bench['stats']['min']:.3f} |"
        )
    return lines


def _finite(value, digits: int = 1) -> str:
    return f"{value:.{digits}f}" if np.isfinite(value) else "-"


def bounds_table(benchmarks):
    """Tightness of the barrier bounds and their cost relative to a 25-point path evaluation."""
    lines = [
        "| pair | aligned by | barrier over [0, 1] (certified) | 25-point max | endpoint bound | endpoint / "
        "barrier | baseline (25 points) | baseline / barrier | at t = 1/2: output defect bound / true | "
        "at t = 1/2: loss over the true defect's box / true | certified sup: cost / path (range over rounds), "
        "sub-intervals | endpoint bound: cost / path |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def ratio(value, barrier):
        return f"{value / barrier:.1f}" if barrier >= 1e-3 else "- (barrier < 1e-3)"

    for bench in benchmarks:
        i = bench["extra_info"]
        sup = f"{i['sup_upper']:.4f}" + (
            "" if i["sup_converged"] else f" (gap {i['sup_upper'] - i['sup_lower']:.1e})"
        )
        lines.append(
            f"| {i['bounds']} | {i['label']} | {sup} | {i['grid_max']:.4f} | {i['endpoint']:.4g} | "
            f"**{ratio(i['endpoint'], i['sup_upper'])}** | {i['baseline']:.4g} | {ratio(i['baseline'], i['sup_upper'])} | "
            f"{i['defect_ratio']:.1f} | {_finite(i['loss_step_ratio'])} | {i['sup_cost']:.1f}x "
            f"({i['sup_cost_range'][0]:.1f}-{i['sup_cost_range'][1]:.1f}), {i['sup_intervals']} | "
            f"{i['endpoint_cost']:.0f}x |"
        )
    return [*lines, "", *bounds_summary(benchmarks)]


def bounds_summary(benchmarks):
    """Per group of pairs: the certified supremum's cost and gap, and the bounds' tightness (median, worst)."""
    by_group = defaultdict(list)
    for bench in benchmarks:
        by_group[bench["extra_info"]["bounds"]].append(bench["extra_info"])
    lines = [
        "| pairs | certified sup: cost / 25-point path, median (worst) | certified sup: gap / upper, median "
        "(worst) | endpoint bound / barrier: median (worst) | baseline / barrier: median (worst) | endpoint "
        "bound: cost / path, median |",
        "|---|---|---|---|---|---|",
    ]
    for group, rows in by_group.items():
        costs = [r["sup_cost"] for r in rows]
        cost = f"**{np.median(costs):.1f}x** ({max(costs):.1f}x)"
        gaps = [r["sup_gap"] / r["sup_upper"] if r["sup_upper"] >= 1e-3 else None for r in rows]
        gaps = [g for g in gaps if g is not None]
        gap = f"{np.median(gaps):.2%} ({max(gaps):.2%})" if gaps else "- (every barrier < 1e-3: gap <= 1e-4)"
        endpoint_cost = f"{np.median([r['endpoint_cost'] for r in rows]):.0f}x"
        decided = [r for r in rows if r["sup_upper"] >= 1e-3]
        if not decided:
            lines.append(f"| {group} | {cost} | {gap} | - (every barrier < 1e-3) | - | {endpoint_cost} |")
            continue
        e = [r["endpoint"] / r["sup_upper"] for r in decided]
        b = [r["baseline"] / r["sup_upper"] for r in decided]
        lines.append(
            f"| {group} | {cost} | {gap} | **{np.median(e):.1f}** ({max(e):.1f}) | {np.median(b):.1f} "
            f"({max(b):.1f}) | {endpoint_cost} |"
        )
    fig2 = [r["sup_cost"] for rows in by_group.values() for r in rows if r["bounds"].startswith("fig2")]
    if fig2:
        lines += [
            "",
            f"Every fig2 pair: certified supremum {np.median(fig2):.1f}x a 25-point path (median), "
            f"{max(fig2):.1f}x at worst.",
        ]
    return lines


def sparse_table(benchmarks):
    lines = [
        "| problem | sparse certified (s) | dense certified (s) | ratio | peak memory | dense cost matrix alone |",
        "|---|---|---|---|---|---|",
    ]
    for bench in benchmarks:
        info = bench["extra_info"]
        sparse, dense = info["seconds"]["sparse"], info["seconds"].get("dense")
        ratio = f"{dense / sparse:.2f}" if dense else "-"
        peak = f"{info['peak_bytes'] / 2**30:.2f} GiB" if "peak_bytes" in info else "-"
        matrix = f"{info['dense_matrix_bytes'] / 2**30:.1f} GiB" if "dense_matrix_bytes" in info else "-"
        lines.append(
            f"| {info['sparse']} | {sparse:.2f} | {f'{dense:.2f}' if dense else '-'} | {ratio} | {peak} | {matrix} |"
        )
    return lines


TABLES = {
    "sparse": sparse_table,
    "bounds": bounds_table,
    "argv": cli_table,
    "job": threads_table,
    "size": scaling_table,
    "kind": nn_table,
    "path": path_table,
    "estimator": dimension_table,
    "knn": knn_table,
}


SECTIONS = {
    "wasserstein": "Exact W_2 between uniform clouds in d = 10 (`test_bench_wasserstein.py`): lmctheory's certified "
    "assignment vs SciPy's LAP and POT's network simplex on the same inputs, values checked against each other.",
    "dimension": "Intrinsic dimension (`test_bench_dimension.py`): lmctheory vs scikit-dimension on the same 8-dim "
    "subspace of R^50, paired rounds in alternating order, each call in a fresh Python process (imports included) "
    "and, for MLE and TwoNN, called again in one warm process; and the exact k-NN search vs scikit-learn's "
    "NearestNeighbors in one process.",
    "nn": "Networks (`test_bench_nn.py`): weight matching vs rebasin (fresh process), path evaluation modes vs "
    "the state_dict loop (paired rounds), vectorised vs sequential training.",
    "sweep": "Sweeps (`test_bench_sweep.py`): 24 single-threaded configurations, 2 workers vs 1.",
    "scaling": "Scaling (`test_bench_scaling.py`): fitted exponents of time against size.",
    "threads": "The main job (`test_bench_threads.py`): make demo's two steps (validate --quick from an empty "
    "directory, then figures --quick from its records) in fresh processes with 1 and 2 workers, quiet and with "
    "two competing CPU-bound processes; and the fig2 smoke run with 1 or 2 intra-op threads per configuration.",
    "cli": "CLI start-up (`test_bench_cli.py`): fresh processes.",
    "sparse_ot": "Exact W_2 without the dense matrix (`test_bench_sparse_ot.py`): the sparse certified route "
    "against the dense certified assignment where both fit (paired rounds, values equal to 1e-12), and alone "
    "beyond the dense wall in a fresh process (peak resident memory of the process).",
    "bounds": "Barrier bounds (`test_bench_bounds.py`): the loss barrier above the chord over every t in [0, 1] "
    "(certified enclosure: its upper end, its gap to the attained lower end, and its cost relative to a 25-point "
    "path evaluation, the two alternated for five warm rounds in one process and one thread, ratio of the "
    "medians), the endpoint bound (defaults: 32 + 64 sub-intervals, back-substitution) and the baseline certified "
    "bound, their ratios to the barrier (tightness: 1 is exact). Ratios are not given for barriers below 1e-3, "
    "where they say nothing. The two columns at t = 1/2 split the box recursion's slack: the propagated output "
    "defect against the true one, and the loss maximised over the box of the true defect against the true loss "
    "above the chord; the back-substitution recovers part of both.",
}


def _tables(data) -> list[str]:
    groups = defaultdict(list)  # each benchmark file may hold several kinds of table
    for bench in data["benchmarks"]:
        groups[next((key for key in TABLES if key in bench["extra_info"]), None)].append(bench)
    lines = []
    for key, mine in groups.items():
        lines += [*TABLES.get(key, wasserstein_table)(mine), ""]
    return lines


def _machine(data) -> str:
    cpu = data["machine_info"].get("cpu", {})
    return f"{cpu.get('brand_raw', '?')}, {cpu.get('count', '?')} cores, {data.get('datetime', '?')[:10]}"


def _sections(text: str) -> dict:
    """The ``## name`` sections of an existing benchmarks page, by name."""
    out, name = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            name = line[3:].strip()
            out[name] = []
        elif name is not None:
            out[name].append(line)
    return {k: "\n".join(v).strip() for k, v in out.items()}


def page(files: dict, previous: str = "") -> str:
    """The benchmarks page: one section per benchmark file, with its machine and date; the sections of
    ``previous`` (the current page) whose results file was not given are kept as they are."""
    out = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`tests/benchmarks/report.py`); do not edit by hand. Ratios are baseline "
        "time / lmctheory time on the same inputs in the same run (> 1: lmctheory is faster). Timings on a "
        "shared machine vary from run to run; the ratios, measured in one process, vary less.",
        "",
    ]
    kept = _sections(previous)
    for name in [*kept, *(n for n in files if n not in kept)]:
        data = files.get(name)
        if data is None or not data["benchmarks"]:
            if name in kept:
                out += [f"## {name}", "", kept[name], ""]
            continue
        out += [
            f"## {name}",
            "",
            SECTIONS.get(name, ""),
            "",
            f"Machine: {_machine(data)}.",
            "",
            *_tables(data),
        ]
    return "\n".join(out).rstrip() + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", help="pytest-benchmark JSON files")
    parser.add_argument("--page", help="write the benchmarks page (Markdown) here")
    parser.add_argument(
        "--readme", help="replace the README's bench-threads and bench-bounds blocks with those tables"
    )
    args = parser.parse_args(argv)
    files = {Path(f).stem: json.load(open(f)) for f in args.files if Path(f).exists()}
    previous = Path(args.page).read_text() if args.page and Path(args.page).exists() else ""
    text = page(files, previous)
    if args.page:
        Path(args.page).write_text(text)
    # the README keeps the main job's rows and the bounds' summary; the docs page has every table
    readme_tables = {
        "threads": lambda data: [
            line for line in threads_table(data["benchmarks"]) if not line.startswith("| validate --smoke")
        ],
        "bounds": lambda data: [*bounds_summary(data["benchmarks"]), ""],
    }
    for name, table in readme_tables.items():
        if args.readme and files.get(name, {}).get("benchmarks"):
            from lmctheory_paper.validation.summary import write_between_markers

            data = files[name]
            write_between_markers(
                args.readme, f"bench-{name}", "\n".join([*table(data), f"Machine: {_machine(data)}.", ""])
            )
    if not (args.page or args.readme):
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
