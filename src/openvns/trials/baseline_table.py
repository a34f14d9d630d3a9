"""The baseline-characteristics table of a trial ("Table 1"): each arm's patients before
treatment.

Per arm, over the eligible patients (the analysed population; the randomised count is given
too): the baseline diary's mean pain and how many of its days were kept, the questionnaires at
the baseline visit (BPI interference, FIQR for fibromyalgia, sleep quality), a headache
condition's baseline attack or headache-day rates, and the nerve-interface threshold multiplier
θ. Continuous values are mean (SD) over the patients who have them, θ median [IQR]; a row whose
values are missing in every arm is left out. The values come from
:func:`openvns.trials.export.per_patient_columns`, so the table and the per-patient export agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from openvns.trials.export import per_patient_columns

if TYPE_CHECKING:
    from openvns.trials.runner import TrialResult

#: Rows: per-patient column, label, summary (``mean`` = mean (SD), ``median`` = median [IQR]).
_ROWS: tuple[tuple[str, str, str], ...] = (
    ("baseline_NRS", "pain NRS, baseline diary mean", "mean"),
    ("bpi_interference_baseline", "BPI interference (0–10)", "mean"),
    ("fiqr_baseline", "FIQR total (0–100)", "mean"),
    ("sleep_baseline", "sleep quality NRS (0–10)", "mean"),
    ("attacks_baseline", "attacks per week", "mean"),
    ("migraine_days_baseline", "migraine days per 28 days", "mean"),
    ("headache_days_baseline", "headache days per 28 days", "mean"),
    ("coupling", "nerve-interface threshold multiplier θ", "median"),
)


@dataclass(frozen=True)
class BaselineRow:
    """One characteristic: its label, how it is summarised and each arm's text and numbers.

    Attributes
    ----------
    key, label, kind
        Per-patient column, words, ``mean`` (mean and SD) or ``median`` (median and IQR).
    values
        Per arm: ``(n with a value, centre, spread)`` — the SD, or the IQR's low and high.
    """

    key: str
    label: str
    kind: str
    values: dict[str, tuple[int, float, tuple[float, ...]]]

    def text(self, arm: str) -> str:
        """``5.9 (1.2)`` or ``6.1 [4.2–9.0]``; ``—`` without values."""
        n, centre, spread = self.values[arm]
        if n == 0:
            return "—"
        if self.kind == "median":
            return f"{centre:.2f} [{spread[0]:.2f}–{spread[1]:.2f}]"
        return f"{centre:.1f} ({spread[0]:.1f})" if n > 1 else f"{centre:.1f}"


@dataclass(frozen=True)
class BaselineTable:
    """Counts and rows of the table.

    Attributes
    ----------
    randomised, eligible
        Patients per arm.
    rows
        The characteristics present in the trial.
    """

    randomised: dict[str, int]
    eligible: dict[str, int]
    rows: list[BaselineRow]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (``summary.json``)."""
        return {
            "randomised": dict(self.randomised),
            "eligible": dict(self.eligible),
            "rows": {
                r.key: {
                    "label": r.label,
                    "summary": "mean, SD" if r.kind == "mean" else "median, IQR",
                    "arms": {
                        arm: {"n": n, "centre": centre, "spread": list(spread)}
                        for arm, (n, centre, spread) in r.values.items()
                    },
                }
                for r in self.rows
            },
        }


def _summary(x: npt.NDArray[np.float64], kind: str) -> tuple[int, float, tuple[float, ...]]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return 0, float("nan"), ()
    if kind == "median":
        low, mid, high = np.percentile(x, [25.0, 50.0, 75.0])
        return int(x.size), float(mid), (float(low), float(high))
    sd = float(np.std(x, ddof=1)) if x.size > 1 else float("nan")
    return int(x.size), float(np.mean(x)), (sd,)


def baseline_table(result: TrialResult) -> BaselineTable:
    """The baseline characteristics of each arm's eligible patients."""
    cols = per_patient_columns(result)
    arms = result.arm_names
    masks = {a: result.arm == i for i, a in enumerate(arms)}
    rows = []
    for key, label, kind in _ROWS:
        if key not in cols:
            continue
        column = np.asarray(cols[key], dtype=np.float64)
        values = {a: _summary(column[m & result.eligible], kind) for a, m in masks.items()}
        if all(n == 0 for n, _, _ in values.values()):
            continue
        rows.append(BaselineRow(key, label, kind, values))
    return BaselineTable(
        randomised={a: int(m.sum()) for a, m in masks.items()},
        eligible={a: int((m & result.eligible).sum()) for a, m in masks.items()},
        rows=rows,
    )


def baseline_html(result: TrialResult) -> str:
    """The report's section."""
    import html

    if result.design.baseline_days == 0:
        return ""
    table = baseline_table(result)
    arms = list(table.randomised)
    head = "".join(
        f"<th>{html.escape(a)} (n = {table.eligible[a]} of {table.randomised[a]})</th>"
        for a in arms
    )
    rows = [f"<tr><th class='label'>Characteristic</th>{head}</tr>"]
    for r in table.rows:
        how = "mean (SD)" if r.kind == "mean" else "median [IQR]"
        cells = "".join(f"<td>{html.escape(r.text(a))}</td>" for a in arms)
        rows.append(f"<tr><td class='label'>{html.escape(r.label)}, {how}</td>{cells}</tr>")
    return (
        "<h2>Baseline characteristics</h2>"
        "<p>Eligible patients of each arm (of those randomised) before treatment: the baseline "
        "diary and the questionnaires at the baseline visit.</p>"
        f"<table class='baseline'>{''.join(rows)}</table>"
    )
