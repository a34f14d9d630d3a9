"""Run the registry: simulate each cohort once, evaluate every target, judge pass or fail."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from openvns.physiology.parameters import PhysiologyParameters, load_parameters
from openvns.simulation.courses import Recruitment
from openvns.simulation.recruitment import default_recruitment
from openvns.trials.validation.cohorts import CohortRunner, ValidationSizes
from openvns.trials.validation.metrics import MetricContext, run_metric
from openvns.trials.validation.registry import Registry, Target, load_registry
from openvns.trials.validation.stats import NotSimulated

__all__ = ["Status", "TargetResult", "run_validation"]

log = logging.getLogger(__name__)

Status = Literal["pass", "fail", "not simulated", "error"]


@dataclass(frozen=True)
class TargetResult:
    """One target: the reference value and interval against the simulated value.

    Attributes
    ----------
    key, target, source
        Registry key, what is compared (label) and where the reference value comes from.
    reference, interval, interval_note
        Reference value, acceptance interval (open sides ±inf) and how it is derived.
    simulated, simulated_ci
        Simulated value and its 95 % interval (NaN when not simulated).
    passed
        Whether the simulated value lies in the interval.
    unit, n
        Unit of both values; simulated patients behind the value.
    reference_text
        The reference in words where it has no firm number.
    calibration, why
        Whether the fact was used for calibration, and the registry's reason.
    status, detail, cohort, metric
        ``pass``, ``fail``, ``not simulated`` or ``error``; a note on the measurement (or the
        reason it is missing); the cohort and metric names.
    unreached
        For a calibration target the registry declares out of reach of every calibration
        parameter: why (its failure is reported, not fatal); ``None`` otherwise.
    """

    key: str
    target: str
    source: str
    reference: float
    interval: tuple[float, float]
    interval_note: str
    simulated: float
    simulated_ci: tuple[float, float]
    passed: bool
    unit: str = "%"
    n: int = 0
    reference_text: str | None = None
    calibration: bool = True
    why: str = ""
    status: Status = "pass"
    detail: str = ""
    cohort: str | None = None
    metric: str = ""
    unreached: str | None = None

    @property
    def kind(self) -> str:
        return "calibration" if self.calibration else "held out"

    @property
    def blocking(self) -> bool:
        """A calibration target that did not pass and is not declared unreached."""
        return self.calibration and not self.passed and self.unreached is None


def evaluate(target: Target, ctx: MetricContext) -> TargetResult:
    """Measure ``target`` in its cohort and judge it."""
    ref = target.reference
    lo, hi = ref.bounds
    base = blank(target)
    try:
        m = run_metric(target.metric, ctx, target.args)
    except NotSimulated as exc:
        return replace(base, status="not simulated", detail=str(exc))
    except Exception as exc:  # a metric that cannot run is reported, never hidden
        log.exception("validation target %s failed to evaluate", target.key)
        return replace(base, status="error", detail=f"{type(exc).__name__}: {exc}")
    ok = math.isfinite(m.value) and lo <= m.value <= hi
    return replace(base, simulated=m.value, simulated_ci=m.ci, passed=ok, n=m.n,
                   status="pass" if ok else "fail", detail=m.detail)  # fmt: skip


def blank(target: Target) -> TargetResult:
    """``target`` with no simulated value yet (status ``error`` until measured)."""
    ref = target.reference
    nan = math.nan
    return TargetResult(
        target.key, target.label, target.source, ref.value, ref.bounds, ref.note, nan,
        (nan, nan), False, ref.unit, 0, ref.text, target.calibration, target.why, "error", "",
        target.cohort, target.metric, target.unreached,
    )  # fmt: skip


def run_validation(
    *,
    sizes: ValidationSizes | None = None,
    root_seed: int = 20261125,
    params: PhysiologyParameters | None = None,
    recruitment: Recruitment | None = None,
    only: Sequence[str] | Callable[[str], bool] | None = None,
    registry: Registry | None = None,
    progress: Callable[[TargetResult, int, int], None] | None = None,
) -> list[TargetResult]:
    """Evaluate every target of the registry (the shipped one by default).

    Parameters
    ----------
    sizes
        Patients per arm of each cohort kind (:class:`ValidationSizes` defaults).
    root_seed
        Root seed of every simulation.
    params, recruitment
        Physiology parameters and recruitment function (shipped set, default 2 mm cuff table).
    only
        Target keys to run, or a predicate on the key.
    registry
        Another registry (e.g. a test file from :func:`load_registry`).
    progress
        ``progress(result, done, total)`` after each target.
    """
    reg = load_registry() if registry is None else registry
    p = load_parameters() if params is None else params
    rec = default_recruitment() if recruitment is None else recruitment
    if only is None:
        targets = reg.targets
    elif callable(only):
        targets = tuple(t for t in reg.targets if only(t.key))
    else:
        targets = reg.select(list(only))
    # targets of one cohort run together, so each cohort is simulated once and then dropped
    order = sorted(range(len(targets)), key=lambda i: (targets[i].cohort or "", i))
    runner = CohortRunner(reg.cohorts, sizes or ValidationSizes(), root_seed=root_seed,
                          params=params, recruitment=recruitment)  # fmt: skip
    results: dict[int, TargetResult] = {}
    current: str | None = None
    broken: dict[str, str] = {}
    for done, i in enumerate(order, start=1):
        t = targets[i]
        if t.cohort != current:
            runner.clear()
            current = t.cohort
        cohort = None
        if t.cohort is not None:
            try:
                if t.cohort in broken:
                    raise RuntimeError(broken[t.cohort])
                cohort = runner(t.cohort)
            except Exception as exc:
                if t.cohort not in broken:
                    log.exception("validation cohort %s failed", t.cohort)
                    broken[t.cohort] = f"{type(exc).__name__}: {exc}"
                r = replace(blank(t), detail=f"cohort {t.cohort}: {broken[t.cohort]}")
                results[i] = r
                if progress is not None:
                    progress(r, done, len(targets))
                continue
        r = evaluate(t, MetricContext(cohort, runner, p, rec))
        results[i] = r
        log.info("validation %s: %s (%s)", t.key, r.simulated, r.status)
        if progress is not None:
            progress(r, done, len(targets))
    return [results[i] for i in range(len(targets))]
