"""Quick and full validation side by side, generated from two ``validation.json`` reports.

``python -m lmctheory_paper.validation.summary QUICK.json FULL.json`` prints, in Markdown:

* per experiment and preset, the prediction rows (hold / fail / inconclusive), the checks and the
  measurements, and the fraction of prediction rows that are decided (holds or fails);
* every row whose verdict differs between the two presets (rows match on experiment and claim);
  rows present in only one preset are counted, not listed.

``--write FILE`` replaces the blocks marked in FILE (``<!-- begin:validation-summary -->`` ...
``<!-- end:validation-summary -->`` and the others below) instead of printing (``make validation-table`` writes the
README's table this way, so the table is never edited by hand); with ``--calibration`` the measured
false-"holds" rate of every verdict rule (:mod:`.calibration`) goes into the ``calibration`` block;
files with a ``rates-slopes`` block get the slope table of E W_2 (uniform laws, full preset): the
``rates`` experiment's fit over N <= 4096 next to ``rates_large``'s over the whole range and its tail.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from lmctheory.claims.verdicts import borderline

from .report import counts

__shapes_results__ = False


def _rows(path) -> list[dict]:
    doc = json.loads(Path(path).read_text())
    rows = doc.get("rows", doc.get("result", {}).get("rows"))
    if not isinstance(rows, list):
        raise ValueError(f"{path}: not a validation report (no 'rows')")
    return rows


def decided_fraction(rows) -> tuple[int, int]:
    """``(decided, total)`` prediction rows: decided = holds or fails."""
    preds = [r for r in rows if r["kind"] == "prediction"]
    return sum(r["verdict"] in ("holds", "fails") for r in preds), len(preds)


def side_by_side(quick: list[dict], full: list[dict]) -> list[str]:
    """Markdown lines: one row per experiment with the quick and the full counts."""
    lines = [
        "| experiment | preset | predictions | rule out an alternative (largest tol / gap) | hold | fail | "
        "inconclusive | borderline | decided | checks (hold / fail) | measurements |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    names = list(dict.fromkeys([r["experiment"] for r in quick] + [r["experiment"] for r in full]))
    for name in [*names, "all"]:
        for preset, rows in (("quick", quick), ("full", full)):
            sub = rows if name == "all" else [r for r in rows if r["experiment"] == name]
            c = counts(sub)
            p, ch = c["prediction"], c["check"]
            decided, total = decided_fraction(sub)
            share = f"{100 * decided / total:.0f} %" if total else "-"
            label = f"**{name}**" if name == "all" else f"`{name}`"
            edge = sum(r["kind"] == "prediction" and is_borderline(r) for r in sub)
            lines.append(
                f"| {label} | {preset} | {total} | {ruling_out(sub)} | {p['holds']} | {p['fails']} | "
                f"{p['inconclusive']} | {edge} | "
                f"{share} | {sum(ch.values())} ({ch['holds']} / {ch['fails']}) | "
                f"{c['measurement']['reported']} |"
            )
    return lines


def ruling_out(rows) -> str:
    """ "n (r)": how many prediction rows name the values they rule out, and the largest ratio of an
    equivalence row's tolerance to its distance from the nearest of them (at most 1/2 by construction)."""
    predictions = [r for r in rows if r["kind"] == "prediction"]
    named = sum(bool(r.get("rules_out")) for r in predictions)
    ratios = [
        r["statistic"]["tol"] / min(abs(v - r["predicted"]) for v in r["rules_out"])
        for r in predictions
        if r.get("rules_out") and (r.get("statistic") or {}).get("tol") is not None
    ]
    return f"{named}" + (f" ({max(ratios):.2f})" if ratios else "")


def is_borderline(row: dict) -> bool:
    """A row's verdict would change at half or twice the 5 % level (its stored flag, else from its p-values)."""
    if "borderline" in row:
        return bool(row["borderline"])
    return borderline(row.get("statistic") or {})


def borderline_rows(quick: list[dict], full: list[dict]) -> list[str]:
    """Markdown lines: every borderline prediction row of either preset, with its verdict and p-values."""
    rows = [(preset, r) for preset, rs in (("quick", quick), ("full", full)) for r in rs]
    rows = [(preset, r) for preset, r in rows if r["kind"] == "prediction" and is_borderline(r)]
    if not rows:
        return ["No prediction row is borderline (every p-value outside [2.5 %, 10 %])."]
    out = [
        f"Borderline prediction rows ({len(rows)}): the verdict would change at a level of 2.5 % or 10 %.",
        "",
        "| experiment | claim | preset | verdict | p (prediction) | p (opposite) |",
        "|---|---|---|---|---|---|",
    ]
    for preset, r in rows:
        stat = r.get("statistic") or {}
        p, q = stat.get("p_value"), stat.get("p_value_opposite")
        out.append(
            f"| {r['experiment']} | {r['prediction']} | {preset} | {r['verdict']} | "
            f"{'-' if p is None else f'{p:.3g}'} | {'-' if q is None else f'{q:.3g}'} |"
        )
    return out


def differences(quick: list[dict], full: list[dict]) -> tuple[list[tuple[dict, dict]], int, int]:
    """``(pairs whose verdict differs, rows only in quick, rows only in full)``."""
    q = {(r["experiment"], r["prediction"]): r for r in quick}
    f = {(r["experiment"], r["prediction"]): r for r in full}
    pairs = [(q[k], f[k]) for k in q if k in f and q[k]["verdict"] != f[k]["verdict"]]
    return pairs, len(q.keys() - f.keys()), len(f.keys() - q.keys())


def _value(r) -> str:
    m = r.get("measured")
    if m is None:
        return "-"
    std = r.get("measured_std")
    return f"{m:.3g}" + (f" ± {std:.2g}" if std is not None else "") + f" (n={r.get('n_seeds')})"


def _verdict(r) -> str:
    return r["verdict"] + (" (borderline)" if is_borderline(r) else "")


def summary_markdown(quick: list[dict], full: list[dict]) -> str:
    """The side-by-side table, the decided fractions and how many rows' verdicts differ (listed by
    :func:`differences_markdown`)."""
    dq, tq = decided_fraction(quick)
    df, tf = decided_fraction(full)
    pairs, only_q, only_f = differences(quick, full)
    out = [
        *side_by_side(quick, full),
        "",
        f"Decided prediction rows (holds or fails): quick {dq}/{tq}"
        + (f" ({100 * dq / tq:.0f} %)" if tq else "")
        + f", full {df}/{tf}"
        + (f" ({100 * df / tf:.0f} %)" if tf else "")
        + f". Rows whose verdict differs between the presets: {len(pairs)} ({only_q} rows only in quick, "
        f"{only_f} only in full; listed in the docs' Validation page).",
    ]
    return "\n".join(out) + "\n"


def differences_markdown(quick: list[dict], full: list[dict]) -> str:
    """Markdown: every row whose verdict differs between the presets, with both verdicts and values."""
    pairs, only_q, only_f = differences(quick, full)
    if not pairs:
        return f"No row has a different verdict in the two presets ({only_q} rows only in quick, {only_f} only in full).\n"
    out = [
        f"Rows whose verdict differs between the presets ({len(pairs)}; {only_q} rows only in quick, "
        f"{only_f} only in full):",
        "",
        "| experiment | claim | quick | full |",
        "|---|---|---|---|",
    ]
    out += [
        f"| {q['experiment']} | {q['prediction']} | {_verdict(q)}: {_value(q)} | {_verdict(f)}: {_value(f)} |"
        for q, f in pairs
    ]
    return "\n".join(out) + "\n"


def write_between_markers(path, name: str, text: str) -> None:
    """Replace the text between ``<!-- begin:NAME -->`` and ``<!-- end:NAME -->`` in ``path``."""
    path = Path(path)
    source = path.read_text()
    pattern = re.compile(rf"(<!-- begin:{re.escape(name)} -->\n).*?(<!-- end:{re.escape(name)} -->)", re.S)
    if not pattern.search(source):
        raise ValueError(f"{path}: no '<!-- begin:{name} -->' ... '<!-- end:{name} -->' block")
    path.write_text(pattern.sub(lambda m: m.group(1) + text + m.group(2), source, count=1))


def _uniform_d(claim: str) -> int | None:
    match = re.search(r"uniform d=(\d+)\b", claim)
    return int(match.group(1)) if match else None


def slope_table(full: list[dict]) -> str | None:
    """Markdown, the finite-N bias table: per d, the fitted slopes of E W_2 against N (mean ± std over
    replicate curves) from ``rates`` (N = 64..4096) and ``rates_large`` (whole range and tail), their bias
    (slope + 1/d, in brackets), the bias b calibrated on the other dimensions, each prediction -1/d + b ± tol
    with the values it rules out, and the verdicts; None without ``rates_large`` rows."""
    large = [r for r in full if r["experiment"] == "rates_large"]
    if not large:
        return None

    def cell(r, d) -> str:
        if r is None:
            return "-"
        return f"{r['measured']:.4f} ± {r['measured_std']:.4f} ({r['measured'] + 1 / d:+.4f})"

    def claim(r) -> str:
        if r is None or r["kind"] != "prediction":
            return "-" if r is None else "measurement"
        tol = r["statistic"]["tol"]
        ruled = ", ".join(f"{v:.4f}" for v in r["rules_out"])
        return f"b = {r['details']['finite_n_bias']:+.4f}: {r['predicted']:.4f} ± {tol:.4f}, rules out {ruled}: {r['verdict']}"

    rates = {
        _uniform_d(r["prediction"]): r
        for r in full
        if r["experiment"] == "rates" and r["prediction"].startswith("slope of E W_2 vs N, uniform d=")
    }
    tails = {
        _uniform_d(r["prediction"].removesuffix(" (sparse exact OT)")): r
        for r in large
        if r["prediction"].endswith("(sparse exact OT)")
    }
    wholes = {
        _uniform_d(r["prediction"]): r
        for r in large
        if r["kind"] == "measurement" and not r["prediction"].endswith("(sparse exact OT)")
    }
    lines = [
        "| d | FG -1/d | `rates`: N = 64..4096 (bias) | `rates`: prediction | `rates_large`: whole range (bias) "
        "| `rates_large`: tail (bias) | `rates_large`: tail prediction |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in sorted(set(rates) | set(tails)):
        tail = tails.get(d)
        span = f" (N = {tail['prediction'].split('over N = ')[1].split(',')[0]})" if tail else ""
        lines.append(
            f"| {d} | {-1 / d:.4f} | {cell(rates.get(d), d)} | {claim(rates.get(d))} | {cell(wholes.get(d), d)} | "
            f"{cell(tail, d)}{span} | {claim(tail)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lmctheory_paper.validation.summary", description=__doc__.split("\n")[0]
    )
    parser.add_argument("quick", help="validation.json of the quick preset")
    parser.add_argument("full", help="validation.json of the full preset")
    parser.add_argument(
        "--write",
        metavar="FILE",
        action="append",
        default=[],
        help="replace the validation-summary block of FILE (repeat for several files)",
    )
    parser.add_argument(
        "--calibration",
        action="store_true",
        help="also measure each verdict rule's false-'holds' rate (20,000 simulations per cell) and write it "
        "into the calibration block of FILE (or print it)",
    )
    args = parser.parse_args(argv)
    quick, full = _rows(args.quick), _rows(args.full)
    text = summary_markdown(quick, full)
    slopes = slope_table(full)
    rates = None
    if args.calibration:
        from .calibration import calibration_table

        rates = "\n".join(calibration_table()) + "\n"
    edge = "\n".join(borderline_rows(quick, full)) + "\n"
    blocks = {
        "validation-summary": text,
        "verdict-differences": differences_markdown(quick, full),
        "borderline-rows": edge,
        "calibration": rates,
        "rates-slopes": slopes,
    }
    for path in args.write:
        present = [name for name in blocks if f"<!-- begin:{name} -->" in Path(path).read_text()]
        if not present:
            raise ValueError(f"{path}: none of the blocks {sorted(blocks)} is marked in it")
        for name in present:
            if blocks[name]:
                write_between_markers(path, name, blocks[name])
    if not args.write:
        print(text + ("\n" + rates if rates else ""), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
