"""How strong one trial's evidence is: its design's power and the model's large-sample effect.

:func:`design_evidence` simulates the design's power at its own size
(:func:`openvns.trials.power.power_curve` at one size) and the model's effect in one big trial
(:func:`openvns.trials.power.large_sample_effect`, 5 000 per arm by default, with its interval);
:meth:`DesignEvidence.lines` sets a trial's own estimates beside them and flags every estimate
outside the large-sample interval: a trial whose estimate lies there found an effect the model
does not have at that size (a chance result, the more likely the lower the power).

A randomised-withdrawal design's first line is its own endpoint, the loss of response among the
run-in responders (withdrawn − continued, :mod:`openvns.trials.power_withdrawal`), whose trial
estimate comes from :func:`~openvns.trials.withdrawal.withdrawal_outcome`; the lines of the
change in NRS and the responders (all randomised patients, first arm − second) follow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from openvns.analysis.statistics import Comparison
from openvns.simulation.parameters import ModelParameters
from openvns.trials.design import TrialDesign
from openvns.trials.executors import ChunkExecutor
from openvns.trials.power import PowerCurve, Progress, large_sample_effect, power_curve
from openvns.trials.power_withdrawal import WITHDRAWAL_ENDPOINT

if TYPE_CHECKING:
    from openvns.trials.runner import TrialSummary
    from openvns.trials.withdrawal import WithdrawalOutcome

__all__ = ["DesignEvidence", "EvidenceLine", "design_evidence", "observed_comparison"]

#: Patients per arm of the large-sample run unless told otherwise.
LARGE_SAMPLE_N_PER_ARM = 5000


@dataclass(frozen=True)
class EvidenceLine:
    """A line to print; ``warning`` marks an estimate outside the large-sample interval."""

    text: str
    warning: bool = False


def observed_comparison(
    summary: TrialSummary,
    comparison: str,
    endpoint: str,
    withdrawal: WithdrawalOutcome | None = None,
) -> Comparison | None:
    """A trial summary's comparison ``"a − b"`` of ``endpoint`` (a key of
    :data:`openvns.trials.power.ENDPOINT_LABELS`); ``None`` where the summary has none. The loss
    of response (``"lost_response"``) is read from ``withdrawal`` (``None`` without it)."""
    if endpoint == WITHDRAWAL_ENDPOINT:
        if withdrawal is None:
            return None
        w = withdrawal
        return Comparison(w.difference, w.lower, w.upper, w.p_value, "newcombe")
    arm = comparison.split(" − ", 1)[1]
    if endpoint in ("change_NRS", "responders_30", "responders_50"):
        c = summary.comparisons.get(arm)
        return None if c is None else getattr(c, endpoint)
    if summary.headache is None or arm not in summary.headache.comparisons:
        return None
    h = summary.headache.comparisons[arm]
    if endpoint == "headache_change":
        return h.change
    return h.responders.get(50.0)


def _fmt(c: Comparison, endpoint: str) -> str:
    if (
        endpoint.startswith("responders")
        or endpoint.endswith("responders_50")
        or endpoint == WITHDRAWAL_ENDPOINT
    ):
        return f"{100 * c.estimate:+.1f} points [{100 * c.lower:+.1f}, {100 * c.upper:+.1f}]"
    return f"{c.estimate:+.2f} [{c.lower:+.2f}, {c.upper:+.2f}]"


@dataclass(frozen=True)
class DesignEvidence:
    """A design's power at its own size and the model's large-sample effect per endpoint."""

    n_per_arm: int
    power: PowerCurve
    large_n_per_arm: int
    large_sample: dict[tuple[str, str], Comparison]

    def lines(
        self, summary: TrialSummary | None = None, withdrawal: WithdrawalOutcome | None = None
    ) -> list[EvidenceLine]:
        """Per comparison and endpoint: the trial's estimate (with ``summary``; a withdrawal
        design's loss of response with ``withdrawal``), the model's large-sample effect, the
        design's power ± its Monte-Carlo error; then a warning line for each of the trial's
        estimates outside the large-sample interval."""
        out: list[EvidenceLine] = [
            EvidenceLine(
                f"strength of the evidence: power of this design at {self.n_per_arm} per arm "
                f"({self.power.replicates} simulated trials, α = {self.power.alpha:g}) and the "
                f"model's large-sample effect ({self.large_n_per_arm} per arm, 95 % CI)"
            )
        ]
        warnings: list[EvidenceLine] = []
        for e in self.power.endpoints:
            big = self.large_sample[e.comparison, e.endpoint]
            p, se = 100 * float(e.power[0]), 100 * float(e.mc_se[0])
            text = (
                f"  {e.comparison}, {e.label}: power {p:.0f} % ± {se:.0f} %; large-sample "
                f"{_fmt(big, e.endpoint)}"
            )
            obs = (
                None
                if summary is None
                else observed_comparison(summary, e.comparison, e.endpoint, withdrawal)
            )
            if obs is not None and math.isfinite(obs.estimate):
                text += f"; this trial {_fmt(obs, e.endpoint)}"
                if _outside(obs.estimate, big):
                    warnings.append(
                        EvidenceLine(
                            f"warning: {e.comparison} {e.label} "
                            f"{_fmt(obs, e.endpoint).split(' [')[0]} lies outside the model's "
                            f"large-sample interval [{_fmt(big, e.endpoint).split(' [')[1]} "
                            f"({self.large_n_per_arm} per arm); with {p:.0f} % power, an "
                            "estimate this far from the model's effect is mostly sampling error",
                            warning=True,
                        )
                    )
            out.append(EvidenceLine(text))
        if self.power.sequential is not None:
            out += [EvidenceLine(line) for line in self.power.sequential.lines()]
        if self.power.withdrawal is not None:
            out += [EvidenceLine(line) for line in self.power.withdrawal.lines()]
        return out + warnings

    def to_dict(
        self, summary: TrialSummary | None = None, withdrawal: WithdrawalOutcome | None = None
    ) -> dict[str, Any]:
        """JSON-able: per endpoint the power, its MC error, the large-sample effect and (with
        ``summary``, and ``withdrawal`` for a withdrawal design's loss of response) whether the
        trial's estimate lies inside the large-sample interval."""
        entries = []
        for e in self.power.endpoints:
            big = self.large_sample[e.comparison, e.endpoint]
            obs = (
                None
                if summary is None
                else observed_comparison(summary, e.comparison, e.endpoint, withdrawal)
            )
            inside = None
            if obs is not None and math.isfinite(obs.estimate) and _bounded(big):
                inside = not _outside(obs.estimate, big)
            entries.append(
                {
                    "comparison": e.comparison,
                    "endpoint": e.endpoint,
                    "label": e.label,
                    "power": float(e.power[0]),
                    "mc_se": float(e.mc_se[0]),
                    "large_sample": {
                        "estimate": _num(big.estimate),
                        "ci": [_num(big.lower), _num(big.upper)],
                        "p_value": _num(big.p_value),
                        "method": big.method,
                    },
                    "estimate_inside_large_sample_ci": inside,
                }
            )
        seq, wd = self.power.sequential, self.power.withdrawal
        return {
            "sequential": seq.to_dict() if seq is not None else None,
            "withdrawal": wd.to_dict() if wd is not None else None,
            "n_per_arm": self.n_per_arm,
            "replicates": self.power.replicates,
            "alpha": self.power.alpha,
            "large_sample_n_per_arm": self.large_n_per_arm,
            "endpoints": entries,
        }


def _bounded(c: Comparison) -> bool:
    return math.isfinite(c.lower) and math.isfinite(c.upper)


def _outside(estimate: float, c: Comparison) -> bool:
    """``estimate`` lies outside ``c``'s interval (never when the interval is undefined)."""
    return _bounded(c) and not c.lower <= estimate <= c.upper


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def design_evidence(
    design: TrialDesign,
    *,
    n_per_arm: int,
    root_seed: int,
    parameters: ModelParameters | None = None,
    condition: str = "fibromyalgia",
    replicates: int = 200,
    large_n_per_arm: int = LARGE_SAMPLE_N_PER_ARM,
    alpha: float = 0.05,
    executor: Literal["serial", "process", "dask"] | ChunkExecutor = "serial",
    workers: int = 1,
    scheduler: str | None = None,
    chunk_size: int = 2048,
    progress: Progress | None = None,
) -> DesignEvidence:
    """The power of ``design`` at ``n_per_arm`` (``replicates`` simulated trials) and the model's
    large-sample effect (one trial of ``large_n_per_arm`` per arm), same seed and parameters.

    ``progress(patients_done, patients_total)`` counts the patients of both runs together.
    """
    k = sum(design.ratio)
    total = replicates * n_per_arm * k + large_n_per_arm * k
    first = replicates * n_per_arm * k

    def power_progress(done: int, _: int) -> None:
        if progress is not None:
            progress(done, total)

    def large_progress(done: int, _: int) -> None:
        if progress is not None:
            progress(first + done, total)

    common: dict[str, Any] = dict(
        root_seed=root_seed,
        parameters=parameters,
        condition=condition,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        chunk_size=chunk_size,
    )
    curve = power_curve(
        design, [n_per_arm], replicates=replicates, alpha=alpha, progress=power_progress, **common
    )
    big = large_sample_effect(design, n_per_arm=large_n_per_arm, progress=large_progress, **common)
    return DesignEvidence(n_per_arm, curve, large_n_per_arm, big)
