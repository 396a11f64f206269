"""Result rows of a benchmark run: built, judged, printed and written as JSON.

`bench/results/latest.json` is a list of rows, so any later run can be diffed against it:

    {"name": "resident_list.rps", "value": 151.2, "unit": "req/s",
     "reference": "R20.rps", "ratio": 0.64, "target": 0.5, "pass": true,
     "target_kind": "at_least"}

`ratio` is value / the reference row's value (for throughput, the median over rounds of
the ratio measured in the same round, which a noisy machine disturbs less). A row with a
`target` passes when its ratio reaches the target (`target_kind` "at_least": throughput,
at least `target` × the reference), stays under it ("at_most": a duration, at most
`target` × the reference's), or equals it ("equal": query counts, target 1.0). Rows
without a target (`target_kind` null) are informative and always pass. `target_kind`
came last and was appended: the first seven keys mean what they always meant.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROW_KEYS = ("name", "value", "unit", "reference", "ratio", "target", "pass", "target_kind")


def make_row(
    name: str,
    value: float,
    unit: str,
    *,
    reference: str | None = None,
    reference_value: float | None = None,
    target: float | None = None,
    exact: bool = False,
    at_most: bool = False,
    ratio: float | None = None,
) -> dict[str, Any]:
    """One row. `exact`: pass only when the ratio equals the target (query counts);
    `at_most`: pass when the ratio is at most the target (durations); else at least.

    `ratio` defaults to value / reference_value; a caller may give a better estimate
    (throughput: the median of per-round ratios, see bench.run.paired_ratio).
    """
    if ratio is None and reference_value:
        ratio = value / reference_value
    ratio = round(ratio, 3) if ratio is not None else None
    if exact and at_most:
        raise ValueError("a row is judged exactly or against a maximum, not both")
    kind = None if target is None else "equal" if exact else "at_most" if at_most else "at_least"
    if target is None:
        passed = True
    elif ratio is None:
        passed = False  # a target without a measured reference cannot be met
    elif exact:
        passed = value == reference_value * target if reference_value else False
    elif at_most:
        passed = ratio <= target
    else:
        passed = ratio >= target
    return {
        "name": name,
        "value": round(float(value), 3),
        "unit": unit,
        "reference": reference,
        "ratio": ratio,
        "target": target,
        "pass": bool(passed),
        "target_kind": kind,
    }


def failures(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if not row["pass"]]


def write_rows(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """Write the rows as a JSON list (UTF-8, stable key order, one file per run)."""
    for row in rows:
        if tuple(row) != ROW_KEYS:
            raise ValueError(f"row {row.get('name')!r} has keys {tuple(row)}, not {ROW_KEYS}")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(list(rows), ensure_ascii=False, indent=2)
    path.write_text(text + "\n", encoding="utf-8")


def format_table(lines: Sequence[dict[str, Any]]) -> str:
    """A plain-text table of scenarios: req/s, p50, p99, ratio to reference, queries."""
    header = (
        f"{'scenario':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'reference':>12} {'ratio':>6} {'target':>7} {'pass':>5} {'queries':>7}"
    )
    out = [header, "-" * len(header)]
    for line in lines:
        ratio = "" if line.get("ratio") is None else f"{line['ratio']:.2f}"
        target = "" if line.get("target") is None else f">={line['target']:.2f}"
        queries = "" if line.get("queries") is None else str(line["queries"])
        out.append(
            f"{line['name']:<22} {line['rps']:>8.1f} {line['p50']:>8.2f} {line['p99']:>8.2f} "
            f"{line.get('reference') or '':>12} {ratio:>6} {target:>7} "
            f"{'yes' if line.get('pass', True) else 'NO':>5} {queries:>7}"
        )
    return "\n".join(out)
