"""Validation results as a Markdown table, a JSON document and a self-contained HTML page."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from openvns.trials.validation.run import TargetResult

__all__ = ["html_page", "json_document", "markdown_table", "result_text", "summary_counts"]


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "–"
    return f"{x:.2f}" if abs(x) < 10 else f"{x:.1f}"


def _unit(u: str) -> str:
    return {"%": " %", "points": " points"}.get(u, f" {u}")


def _bounds(t: TargetResult) -> str:
    lo, hi = t.interval
    if math.isinf(hi) and not math.isinf(lo):
        return f"≥ {_num(lo)}"
    if math.isinf(lo) and not math.isinf(hi):
        return f"≤ {_num(hi)}"
    return f"{_num(lo)}–{_num(hi)}"


def interval_text(t: TargetResult) -> str:
    """``value unit (low–high)``: the short form of :func:`reference_text`."""
    return f"{_num(t.reference)}{_unit(t.unit)} ({_bounds(t)})"


def reference_text(t: TargetResult) -> str:
    """``value unit (low–high; note)`` with open sides written as ≥ / ≤."""
    head = t.reference_text or f"{_num(t.reference)}{_unit(t.unit)}"
    return f"{head} ({_bounds(t)}; {t.interval_note})"


def simulated_text(t: TargetResult) -> str:
    if t.status in ("not simulated", "error"):
        return t.status
    lo, hi = t.simulated_ci
    ci = f" ({_num(lo)}–{_num(hi)})" if math.isfinite(lo) and (lo, hi) != (t.simulated,) * 2 else ""
    return f"{_num(t.simulated)}{_unit(t.unit)}{ci}"


def summary_counts(results: Sequence[TargetResult]) -> dict[str, dict[str, int]]:
    """``{"calibration": {...}, "held out": {...}}`` counts of each status (calibration also
    counts the failures declared unreached)."""
    out: dict[str, dict[str, int]] = {}
    for kind in ("calibration", "held out"):
        rs = [r for r in results if r.kind == kind]
        out[kind] = {"total": len(rs), "pass": sum(r.passed for r in rs)}
        for s in ("fail", "not simulated", "error"):
            out[kind][s] = sum(r.status == s for r in rs)
        if kind == "calibration":
            out[kind]["unreached"] = sum(not r.passed and r.unreached is not None for r in rs)
    return out


def result_text(t: TargetResult) -> str:
    """``pass``, or the status in capitals (``FAIL``), marked ``(unreached)`` where declared."""
    if t.passed:
        return "pass"
    return f"**{t.status.upper()}**" + (" (unreached)" if t.unreached else "")


def markdown_table(results: Sequence[TargetResult]) -> str:
    """Target, kind, source, reference (interval), simulated (95 % CI), n, result."""
    lines = [
        "| Target | Kind | Source | Reference (interval) | Simulated (95 % CI) | n | Result |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in results:
        ok = result_text(t)
        lines.append(
            f"| {t.target} (`{t.key}`) | {t.kind} | {t.source} | {reference_text(t)} | "
            f"{simulated_text(t)} | {t.n} | {ok} |"
        )
    return "\n".join(lines)


def _jsonable(x: float) -> float | None:
    return x if math.isfinite(x) else None


def json_document(results: Sequence[TargetResult], meta: dict[str, Any]) -> dict[str, Any]:
    """Every result with its interval (open sides ``null``), the counts and ``meta``."""
    return {
        **meta,
        "summary": summary_counts(results),
        "targets": [
            {
                "key": t.key, "label": t.target, "source": t.source,
                "calibration": t.calibration, "why": t.why, "cohort": t.cohort,
                "metric": t.metric, "unit": t.unit, "reference": t.reference,
                "reference_text": t.reference_text,
                "interval": [_jsonable(v) for v in t.interval], "interval_note": t.interval_note,
                "simulated": _jsonable(t.simulated),
                "simulated_ci": [_jsonable(v) for v in t.simulated_ci], "n": t.n,
                "status": t.status, "passed": t.passed, "detail": t.detail,
                "unreached": t.unreached,
            }
            for t in results
        ],
    }  # fmt: skip


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:90rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4;position:sticky;top:0}
.pass{color:#0a6b2d;font-weight:600}.fail,.error{color:#b00020;font-weight:600}
.not-simulated{color:#8a5a00;font-weight:600}.kind{font-size:.8rem;color:#555}
small{color:#666}code{font-size:.8rem}
"""


def html_page(results: Sequence[TargetResult], meta: dict[str, Any]) -> str:
    """A self-contained page: one section per kind, target beside the simulated value."""
    e = html.escape
    counts = summary_counts(results)
    head = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>OpenVNS validation</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>OpenVNS validation</h1>",
        "<p>" + "; ".join(f"{e(str(k))}: {e(str(v))}" for k, v in meta.items()) + "</p>",
        "<p>Calibration targets: facts a parameter was fitted to or chosen from (a failure "
        "makes <code>openvns validate</code> exit 1, unless the registry declares the target "
        "unreached by any calibration parameter and says why). Held-out targets: facts no "
        "parameter was fitted to (their failures are shown, not fatal). See "
        "docs/validation.md.</p><ul>",
    ]  # fmt: skip
    for kind, c in counts.items():
        unreached = f" ({c['unreached']} declared unreached)" if c.get("unreached") else ""
        head.append(
            f"<li><b>{e(kind)}</b>: {c['pass']}/{c['total']} pass; {c['fail']} fail{unreached}, "
            f"{c['not simulated']} not simulated, {c['error']} error</li>"
        )
    head.append("</ul>")
    body: list[str] = []
    for kind in ("calibration", "held out"):
        rs = [r for r in results if r.kind == kind]
        if not rs:
            continue
        body.append(f"<h2>{e(kind.capitalize())} targets ({len(rs)})</h2><table><tr>"
                    "<th>Target</th><th>Source</th><th>Reference (interval)</th>"
                    "<th>Simulated (95 % CI)</th><th>n</th><th>Result</th></tr>")  # fmt: skip
        for t in rs:
            cls = t.status.replace(" ", "-")
            why = e(t.why) + (
                f"<br><b>Unreached:</b> {e(t.unreached)}" if t.unreached and not t.passed else ""
            )
            status = e(t.status) + (" (unreached)" if t.unreached and not t.passed else "")
            body.append(
                f"<tr id='{e(t.key)}'><td>{e(t.target)}<br><code>{e(t.key)}</code> "
                f"<span class='kind'>{e(t.kind)}</span><br><small>{why}</small></td>"
                f"<td>{e(t.source)}</td><td>{e(reference_text(t))}</td>"
                f"<td>{e(simulated_text(t))}<br><small>{e(t.detail)}</small></td>"
                f"<td>{t.n}</td><td class='{cls}'>{status}</td></tr>"
            )
        body.append("</table>")
    return "\n".join([*head, *body, "</body></html>"]) + "\n"
