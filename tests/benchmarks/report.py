"""Turn a pytest-benchmark JSON file into the README's ratio table.

Usage: python tests/benchmarks/report.py results/benchmarks/wasserstein.json
Ratios are peer time / lmctheory time on the same inputs in the same process
(> 1 means lmctheory is faster); relative errors are against the exact W_2^2.
"""

import json
import sys
from collections import defaultdict


def main(path: str) -> None:
    data = json.load(open(path))
    by_n = defaultdict(dict)
    sliced = None
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        if info.get("solver") == "sliced_200":
            sliced = (bench["stats"]["median"], info)
            continue
        by_n[info["n"]][info["solver"]] = (bench["stats"]["median"], info.get("relative_error"))
    print(f"machine: {data['machine_info'].get('cpu', {}).get('brand_raw', '?')}, "
          f"{data['machine_info'].get('cpu', {}).get('count', '?')} cores\n")
    print("| n (d=10) | lmctheory (s) | SciPy LAP / ours | POT exact / ours | POT default / ours | POT default rel. error |")
    print("|---|---|---|---|---|---|")
    for n in sorted(by_n):
        row = by_n[n]
        t = row["lmctheory"][0]
        print(f"| {n} | {t:.3f} | {row['scipy_lsa'][0] / t:.2f} | {row['pot_emd2_exact'][0] / t:.2f} | "
              f"{row['pot_emd2_default'][0] / t:.2f} | {row['pot_emd2_default'][1]:.1e} |")
    if sliced:
        t, info = sliced
        exact_t = by_n.get(info["n"], {}).get("lmctheory", (float("nan"),))[0]
        print(f"\nsliced W_2 (200 directions) at n={info['n']}: {t:.3f} s, {exact_t / t:.0f}x faster than exact; "
              f"SW_2 = {info['sliced']:.4f} vs W_2 = {info['exact']:.4f} "
              f"(relative difference {info['relative_difference']:.2f}: a different quantity, SW_2 <= W_2)")


if __name__ == "__main__":
    main(sys.argv[1])
