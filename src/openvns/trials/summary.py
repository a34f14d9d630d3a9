"""The blinded-phase summary of a trial: :class:`TrialSummary`, its table and its DataFrame.

:meth:`openvns.trials.runner.TrialResult.summary` builds it. Its ``str``/``repr`` is a compact
table (per arm: n randomised, eligible and analysed, change of mean NRS with its 95 % CI, ≥ 30 % and
≥ 50 % responders, dropout in the blinded phase; per comparison: difference with CI and
p-value, Hedges' g with CI, NNT with CI); :meth:`TrialSummary.to_frame` has the same numbers,
unrounded, one row per arm and per comparison.

Each comparison is a :class:`TrialComparison`: the
:class:`~openvns.analysis.endpoints.ArmComparison` of the first arm against another with
Hedges' g of the change of mean NRS and the number needed to treat for ≥ 30 % and ≥ 50 %
responders (:mod:`openvns.analysis.effect_size`). :func:`effects_document` is their entry in
``summary.json``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from openvns.analysis.effect_size import (
    EffectSize,
    NumberNeededToTreat,
    hedges_g,
    number_needed_to_treat,
)
from openvns.analysis.endpoints import (
    ArmComparison,
    ArmSummary,
    ChangeFromBaseline,
    OutcomeComparison,
    OutcomeSummary,
    TimeToResponse,
)
from openvns.trials.headache import HeadacheSummary

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "TrialComparison",
    "TrialSummary",
    "effects_document",
    "with_effect_sizes",
]


@dataclass(frozen=True)
class TrialComparison(ArmComparison):
    """An :class:`~openvns.analysis.endpoints.ArmComparison` (arm a minus arm b) with effect
    sizes.

    Attributes
    ----------
    hedges_g
        Hedges' g of the change of mean NRS (a − b; negative: a improves more), the exact
        noncentral-t interval for δ.
    nnt_30, nnt_50
        Number needed to treat with a rather than b for one more ≥ 30 % / ≥ 50 % responder,
        from the Newcombe difference of :attr:`responders_30` / :attr:`responders_50`.
    """

    hedges_g: EffectSize
    nnt_30: NumberNeededToTreat
    nnt_50: NumberNeededToTreat


def with_effect_sizes(
    comparison: ArmComparison, change_a: ChangeFromBaseline, change_b: ChangeFromBaseline
) -> TrialComparison:
    """``comparison`` of ``change_a`` against ``change_b`` with Hedges' g and the NNTs."""
    base = {f.name: getattr(comparison, f.name) for f in fields(ArmComparison)}
    return TrialComparison(
        **base,
        hedges_g=hedges_g(change_a.change_NRS, change_b.change_NRS),
        nnt_30=number_needed_to_treat(comparison.responders_30),
        nnt_50=number_needed_to_treat(comparison.responders_50),
    )


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _nnt_document(n: NumberNeededToTreat) -> dict[str, Any]:
    return {
        "estimate": _finite(n.estimate),
        "ci": [_finite(n.at_upper), _finite(n.at_lower)],
        "includes_infinity": n.includes_infinity if n.defined else None,
        "text": n.describe(),
    }


def effects_document(comparison: TrialComparison) -> dict[str, Any]:
    """``{"hedges_g", "nnt_30", "nnt_50"}`` of ``summary.json``'s comparison entry.

    ``hedges_g``: estimate, CI and method (``null`` where undefined); ``nnt_*``: the signed NNT
    (positive to benefit, negative to harm, ``null`` for ∞), ``ci`` ``[1/U, 1/L]`` of the risk
    difference's limits (signed likewise), ``includes_infinity`` and Altman's text.
    """
    g = comparison.hedges_g
    return {
        "hedges_g": {
            "estimate": _finite(g.estimate),
            "ci": [_finite(g.lower), _finite(g.upper)],
            "method": g.method,
        },
        "nnt_30": _nnt_document(comparison.nnt_30),
        "nnt_50": _nnt_document(comparison.nnt_50),
    }


def _num(x: float, fmt: str = "+.2f") -> str:
    return format(x, fmt) if math.isfinite(x) else "—"


def _ci(est: float, lo: float, hi: float, fmt: str = "+.2f") -> str:
    text = _num(est, fmt)
    if math.isfinite(lo) and math.isfinite(hi):
        text += f" [{_num(lo, fmt)}, {_num(hi, fmt)}]"
    return text


def _p(p: float) -> str:
    """``p = 0.012``, ``p < 0.001`` or ``p —``."""
    return "p —" if not math.isfinite(p) else ("p < 0.001" if p < 0.001 else f"p = {p:.3f}")


@dataclass(frozen=True, repr=False)
class TrialSummary:
    """Blinded-phase endpoints: per-arm summaries and each other arm against the first.

    ``comparisons`` hold each other arm against the first (first minus other) with Hedges' g
    and the NNTs (:class:`TrialComparison`). ``time_to_response`` holds each arm's weeks to a
    ≥ 30 % response (censored at dropout and at the end of the blinded phase); the comparisons
    carry its log-rank test. ``headache`` holds the prevention and acute endpoints of a headache
    condition. ``outcomes`` are each arm's PGIC, BPI interference, FIQR and sleep from the
    baseline visit to the visit at the end of the blinded phase, ``outcome_comparisons`` each
    other arm against the first. ``randomised`` and ``dropout_blinded`` count each arm's
    randomised patients and those of them who dropped out before the end of the blinded phase.

    ``str`` and ``repr`` are a compact table; :meth:`to_frame` has the numbers unrounded.
    """

    arms: dict[str, ArmSummary]
    comparisons: dict[str, TrialComparison]
    time_to_response: dict[str, TimeToResponse] = field(default_factory=dict)
    outcomes: dict[str, OutcomeSummary] = field(default_factory=dict)
    outcome_comparisons: dict[str, OutcomeComparison] = field(default_factory=dict)
    headache: HeadacheSummary | None = None
    randomised: dict[str, int] = field(default_factory=dict)
    dropout_blinded: dict[str, int] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        """The first arm, against which the others are compared."""
        return next(iter(self.arms), "")

    def _arm_lines(self) -> list[str]:
        head = ("arm", "rand.", "elig.", "anal.", "Δ NRS [95% CI]", "≥30% resp.", "≥50% resp.",
                "dropout")  # fmt: skip
        rows: list[tuple[str, ...]] = [head]
        for name, a in self.arms.items():
            c = a.change_NRS
            resp = []
            for r in (a.responders_30, a.responders_50):
                p = r.proportion()
                resp.append(f"{r.count}/{r.n} ({100 * float(p.estimate):.0f}%)" if r.n else "—")
            n_rand = self.randomised.get(name)
            drop = self.dropout_blinded.get(name)
            rows.append(
                (
                    name,
                    "—" if n_rand is None else str(n_rand),
                    str(a.n),
                    str(int(c.n)),
                    _ci(float(c.estimate), float(c.lower), float(c.upper)),
                    *resp,
                    "—" if drop is None or not n_rand else f"{drop} ({100 * drop / n_rand:.0f}%)",
                )
            )
        widths = [max(len(r[j]) for r in rows) for j in range(len(head))]
        return [
            "  ".join(cell.ljust(w) if j == 0 else cell.rjust(w)
                      for j, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
            for row in rows
        ]  # fmt: skip

    def _comparison_lines(self) -> list[str]:
        ref = self.reference
        lines = []
        for name, c in self.comparisons.items():
            d, g = c.change_NRS, c.hedges_g
            lines.append(f"{ref} − {name}:")
            lines.append(
                f"  Δ NRS      {_ci(d.estimate, d.lower, d.upper)}, {_p(d.p_value)}; "
                f"Hedges' g {_ci(g.estimate, g.lower, g.upper)}"
            )
            for label, rd, nnt in (
                ("≥30% resp.", c.responders_30, c.nnt_30),
                ("≥50% resp.", c.responders_50, c.nnt_50),
            ):
                pts = _ci(100 * rd.estimate, 100 * rd.lower, 100 * rd.upper, "+.1f")
                lines.append(f"  {label} {pts} points, {_p(rd.p_value)}; {nnt.describe()}")
        return lines

    def __str__(self) -> str:
        ref = self.reference
        parts = [
            "Blinded phase, eligible patients: change of mean NRS from baseline to the endpoint "
            "window (95% CI; negative is improvement)",
            *self._arm_lines(),
        ]
        if self.comparisons:
            parts += [
                f"Comparisons ({ref} − other; g: Hedges' g, noncentral-t CI; "
                "NNT: NNTB/NNTH, Altman's CI):",
                *self._comparison_lines(),
            ]
        more = ["time_to_response", "outcomes", "outcome_comparisons"]
        if self.headache is not None:
            more.append("headache")
        parts.append(f"More: {', '.join(more)}; to_frame() for a table.")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return str(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per arm (``kind == "arm"``) and per comparison (``kind == "comparison"``,
        named ``"<first> − <other>"``), unrounded.

        Columns: ``kind``; ``randomised``, ``eligible``, ``analysed`` (with a change from
        baseline), ``dropout_blinded`` (counts, arms);
        ``change_NRS`` with ``_lower``/``_upper`` (the arm's mean change or the difference);
        ``change_NRS_p``, ``hedges_g`` with ``_lower``/``_upper`` (comparisons);
        ``responders_30``/``_50`` with ``_lower``/``_upper`` (the arm's share or the difference of
        shares, 0–1) and, for comparisons, ``_p`` and ``nnt_30``/``nnt_50`` (signed: positive to
        benefit, negative to harm, ``inf`` for no difference) with ``_at_upper``/``_at_lower``
        (``1/U`` and ``1/L`` of the difference's interval) and ``_text`` (Altman's text).
        """
        import pandas as pd

        nan = float("nan")
        rows: dict[str, dict[str, Any]] = {}
        for name, a in self.arms.items():
            c = a.change_NRS
            row: dict[str, Any] = {
                "kind": "arm",
                "randomised": self.randomised.get(name, pd.NA),
                "eligible": a.n,
                "analysed": int(c.n),
                "dropout_blinded": self.dropout_blinded.get(name, pd.NA),
                "change_NRS": float(c.estimate),
                "change_NRS_lower": float(c.lower),
                "change_NRS_upper": float(c.upper),
            }
            for key, r in (("responders_30", a.responders_30), ("responders_50", a.responders_50)):
                p = r.proportion()
                row[key] = float(p.estimate) if r.n else nan
                row[f"{key}_lower"] = float(p.lower) if r.n else nan
                row[f"{key}_upper"] = float(p.upper) if r.n else nan
            rows[name] = row
        ref = self.reference
        for name, cmp in self.comparisons.items():
            d, g = cmp.change_NRS, cmp.hedges_g
            row = {
                "kind": "comparison",
                "change_NRS": d.estimate,
                "change_NRS_lower": d.lower,
                "change_NRS_upper": d.upper,
                "change_NRS_p": d.p_value,
                "hedges_g": g.estimate,
                "hedges_g_lower": g.lower,
                "hedges_g_upper": g.upper,
            }
            for key, rd, nnt in (
                ("responders_30", cmp.responders_30, cmp.nnt_30),
                ("responders_50", cmp.responders_50, cmp.nnt_50),
            ):
                row[key] = rd.estimate
                row[f"{key}_lower"], row[f"{key}_upper"] = rd.lower, rd.upper
                row[f"{key}_p"] = rd.p_value
                short = key.replace("responders", "nnt")
                row[short] = nnt.estimate
                row[f"{short}_at_upper"], row[f"{short}_at_lower"] = nnt.at_upper, nnt.at_lower
                row[f"{short}_text"] = nnt.describe()
            rows[f"{ref} − {name}"] = row
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "name"
        for col in ("randomised", "eligible", "analysed", "dropout_blinded"):
            if col in frame:
                frame[col] = frame[col].astype("Int64")
        return frame
