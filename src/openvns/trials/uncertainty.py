"""Model uncertainty of a trial: its endpoints over plausible parameter sets.

Every assumed value (status A) that a trial's run reads carries a plausible range in its data
file (:mod:`openvns.parameters.ranges`). :func:`trial_assumptions` finds them by the rules the
engine follows (what is read for this design and condition); :func:`run_uncertainty` samples
parameter sets over the ranges (Latin hypercube or scrambled Sobol, :mod:`scipy.stats.qmc`),
runs the trial once per set on any executor of :mod:`openvns.trials.executors`, and gives each
endpoint's prediction interval.

How parameter uncertainty and sampling error combine
    By default every parameter set runs a trial of its own patients (its root seed spawned from
    the configuration's: ``seed_sequence(root_seed, "uncertainty", j)``), so the spread of the
    estimates over the sets is that of the result of one trial of this design when the
    parameters are only known to lie in their ranges: the 2.5 and 97.5 % quantiles are its 95 %
    prediction interval, parameter uncertainty and sampling error together. By the law of total
    variance, ``Var(estimate) = Var_θ(E[estimate | θ]) + E_θ[Var(estimate | θ)]``: the second
    term is the mean squared standard error of the trials (read from their own 95 % intervals),
    the first what the parameters add (``sd_parameter``, its share ``parameter_share``). With
    ``common_seed=True`` every set runs the configuration's own patients instead (common random
    numbers): the spread is then the parameters' alone, around one draw of the patients.

Every endpoint is one of the blinded phase, and a patient's blinded days do not depend on the
days after them, so the runs stop at the end of the blinded phase (the open-label extension is
not simulated; a test checks the endpoints are identical).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from openvns.analysis.endpoints import compare_arms, summarise_arm
from openvns.errors import ValidationError
from openvns.patients.outcomes import OutcomeParameters, load_outcome_parameters
from openvns.random import seed_sequence
from openvns.simulation.parameters import ModelParameters
from openvns.trials.assumptions import (
    Assumption,
    apply_values,
    ranged_assumptions,
    scale,
    trial_assumptions,
)
from openvns.trials.design import TrialDesign
from openvns.trials.executors import ChunkExecutor, get_executor, run_chunks

if TYPE_CHECKING:
    import pandas as pd

    from openvns.trials.config import TrialConfig
    from openvns.trials.runner import TrialResult

FloatArray = npt.NDArray[np.float64]
log = logging.getLogger(__name__)

__all__ = [
    "ARM_ENDPOINTS",
    "COMPARED",
    "METHODS",
    "Assumption",
    "Evaluation",
    "UncertaintyResult",
    "apply_values",
    "blinded_only",
    "check_endpoint",
    "default_endpoint",
    "endpoint_names",
    "evaluate",
    "ranged_assumptions",
    "run_uncertainty",
    "sample_seed",
    "sample_unit",
    "scale",
    "trial_assumptions",
    "trial_endpoints",
]

#: Space-filling designs of :func:`sample_unit`.
METHODS: tuple[str, ...] = ("lhs", "sobol")
#: z of a two-sided 95 % interval: a trial's standard error is its interval's width / (2 z).
_Z95 = 1.959963984540054


def sample_unit(n: int, d: int, method: str, root_seed: int) -> FloatArray:
    """``(n, d)`` points in the unit cube: a Latin hypercube or a scrambled Sobol sequence.

    The generator's seed is ``seed_sequence(root_seed, "uncertainty", method)``; a Sobol
    sample of a size other than a power of 2 loses its balance, so it is refused.
    """
    from scipy.stats import qmc  # type: ignore[import-untyped]

    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValidationError("samples", n, "a whole number ≥ 2")
    if method not in METHODS:
        raise ValidationError("method", method, "one of " + ", ".join(METHODS))
    rng = np.random.default_rng(seed_sequence(root_seed, "uncertainty", method))
    if method == "sobol":
        if n & (n - 1):
            raise ValidationError("samples", n, "a power of 2 for a Sobol sample (64, 128, 256)")
        return np.asarray(qmc.Sobol(d, scramble=True, seed=rng).random(n), dtype=np.float64)
    return np.asarray(qmc.LatinHypercube(d=d, seed=rng).random(n), dtype=np.float64)


# ----------------------------------------------------------------------------------- endpoints
def _proportion_se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n)) if n > 0 else float("nan")


def _iv(x: Any) -> tuple[float, float]:
    """Estimate and standard error of a 95 % interval (its width / 2z)."""
    est, lo, hi = float(x.estimate), float(x.lower), float(x.upper)
    se = (hi - lo) / (2 * _Z95) if np.isfinite(lo) and np.isfinite(hi) else float("nan")
    return est, se


#: Endpoints read from the questionnaires (PGIC, BPI, FIQR, sleep) rather than the pain diary.
QUESTIONNAIRE_ENDPOINTS = frozenset(
    {"pgic_much_improved", "bpi_interference_change", "fiqr_change", "sleep_change"}
)


def needs_questionnaires(endpoints: Sequence[str]) -> bool:
    """Whether any of ``endpoints`` (names of :func:`trial_endpoints`) reads a questionnaire."""
    return any(e.rpartition(".")[2] in QUESTIONNAIRE_ENDPOINTS for e in endpoints)


def _blinded_share(result: TrialResult, arm: str, key: str) -> tuple[float, float]:
    """``dropout_blinded`` or ``any_side_effect`` of ``arm``: the share of its patients who left,
    or reported a side effect, in the blinded phase, with its standard error."""
    d = result.design
    end = d.baseline_days + d.blinded_days
    sel = result.arm == result.arm_names.index(arm)
    n = int(sel.sum())
    if key == "dropout_blinded":
        hit = (result.dropout_day[sel] >= 0) & (result.dropout_day[sel] < end)
    else:
        hit = result.ae_reported[sel, d.baseline_days : end].any(axis=(1, 2))
    p = float(hit.mean()) if n else float("nan")
    return p, _proportion_se(p, n)


def _pain_endpoints(result: TrialResult, only: Sequence[str]) -> dict[str, tuple[float, float]]:
    """The pain-diary endpoints of ``only``, each computed as :meth:`TrialResult.summary` does
    but without the rest of the summary (the same numbers; an analysis of one endpoint runs
    thousands of trials)."""
    ref = result.arm_names[0]
    changes: dict[str, Any] = {}
    arms: dict[str, Any] = {}
    compared: dict[str, Any] = {}

    def change(arm: str) -> Any:
        if arm not in changes:
            changes[arm] = result.change(arm)
        return changes[arm]

    out: dict[str, tuple[float, float]] = {}
    for name in only:
        who, _, key = name.rpartition(".")
        if "-" in who and who.split("-", 1)[0] == ref and who.split("-", 1)[1] in result.arm_names:
            arm = who.split("-", 1)[1]
            if arm not in compared:
                compared[arm] = compare_arms(change(ref), change(arm))
            out[name] = _iv(getattr(compared[arm], key))
            continue
        if key in ("change_NRS", "responders_30", "responders_50"):
            if who not in arms:
                arms[who] = summarise_arm(change(who))
            a = arms[who]
            out[name] = _iv(a.change_NRS if key == "change_NRS" else getattr(a, key).proportion())
        else:  # dropout_blinded, any_side_effect
            out[name] = _blinded_share(result, who, key)
    return out


def trial_endpoints(
    result: TrialResult, only: Sequence[str] | None = None
) -> dict[str, tuple[float, float]]:
    """``{endpoint: (estimate, standard error)}`` of a trial's blinded phase.

    Per arm ``<arm>.<name>``: ``change_NRS``, ``responders_30``, ``responders_50`` (shares),
    ``dropout_blinded``, ``any_side_effect`` (share reporting ≥ 1 side effect in the blinded
    phase), ``pgic_much_improved``, ``bpi_interference_change``, ``fiqr_change`` (fibromyalgia),
    ``sleep_change``; per comparison with the first arm ``<first>-<arm>.<name>`` the
    differences of the first seven that compare (eligible patients, as the report).

    ``only`` (names from :func:`endpoint_names`) computes just those; without a questionnaire
    endpoint among them the rest of the summary is not computed at all.
    """
    if only is not None and not needs_questionnaires(only):
        return _pain_endpoints(result, only)
    if only is not None:
        every = trial_endpoints(result)
        return {k: every[k] for k in only if k in every}
    s = result.summary()
    out: dict[str, tuple[float, float]] = {}
    for arm, a in s.arms.items():
        out[f"{arm}.change_NRS"] = _iv(a.change_NRS)
        out[f"{arm}.responders_30"] = _iv(a.responders_30.proportion())
        out[f"{arm}.responders_50"] = _iv(a.responders_50.proportion())
        out[f"{arm}.dropout_blinded"] = _blinded_share(result, arm, "dropout_blinded")
        out[f"{arm}.any_side_effect"] = _blinded_share(result, arm, "any_side_effect")
        o = s.outcomes.get(arm)
        if o is not None:
            out[f"{arm}.pgic_much_improved"] = _iv(o.pgic_improved.proportion())
            for key, change in o.changes().items():
                out[f"{arm}.{key}_change"] = _iv(change.mean_change())
    ref = result.arm_names[0]
    for arm, c in s.comparisons.items():
        tag = f"{ref}-{arm}"
        out[f"{tag}.change_NRS"] = _iv(c.change_NRS)
        out[f"{tag}.responders_30"] = _iv(c.responders_30)
        out[f"{tag}.responders_50"] = _iv(c.responders_50)
        oc = s.outcome_comparisons.get(arm)
        if oc is not None:
            out[f"{tag}.pgic_much_improved"] = _iv(oc.pgic_improved)
            for key, ch in oc.change.items():
                out[f"{tag}.{key}_change"] = _iv(ch)
    return out


#: Per-arm endpoints of :func:`trial_endpoints`, and those also compared with the first arm.
ARM_ENDPOINTS: tuple[str, ...] = (
    "change_NRS",
    "responders_30",
    "responders_50",
    "dropout_blinded",
    "any_side_effect",
    "pgic_much_improved",
    "bpi_interference_change",
    "fiqr_change",
    "sleep_change",
)
COMPARED: tuple[str, ...] = (
    "change_NRS",
    "responders_30",
    "responders_50",
    "pgic_much_improved",
    "bpi_interference_change",
    "fiqr_change",
    "sleep_change",
)


def endpoint_names(design: TrialDesign, condition: str = "fibromyalgia") -> tuple[str, ...]:
    """The names :func:`trial_endpoints` gives for ``design`` (FIQR in fibromyalgia only)."""
    keep = [e for e in ARM_ENDPOINTS if e != "fiqr_change" or condition == "fibromyalgia"]
    arms = [a.name for a in design.arms]
    out = [f"{a}.{e}" for a in arms for e in keep]
    out += [f"{arms[0]}-{a}.{e}" for a in arms[1:] for e in COMPARED if e in keep]
    return tuple(out)


def check_endpoint(name: str, design: TrialDesign, condition: str = "fibromyalgia") -> str:
    """``name`` if it is an endpoint of the trial, else a :class:`ValidationError` listing them."""
    names = endpoint_names(design, condition)
    if name not in names:
        raise ValidationError("endpoint", name, "one of " + ", ".join(names))
    return name


def default_endpoint(design: TrialDesign) -> str:
    """The primary endpoint: the first arm minus the second in blinded change of NRS."""
    names = [a.name for a in design.arms]
    return f"{names[0]}-{names[1]}.change_NRS" if len(names) > 1 else f"{names[0]}.change_NRS"


# ---------------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class _Sample:
    index: int
    design: TrialDesign
    parameters: ModelParameters
    outcomes: OutcomeParameters
    assumptions: tuple[Assumption, ...]
    values: FloatArray
    n_per_arm: int
    root_seed: int
    chunk_size: int
    endpoints: tuple[str, ...] | None = None


def _run_sample(spec: _Sample) -> dict[str, tuple[float, float]]:
    from openvns.trials.runner import run_trial

    mp, op = apply_values(spec.parameters, spec.outcomes, spec.assumptions, spec.values)
    result = run_trial(
        spec.design,
        n_per_arm=spec.n_per_arm,
        root_seed=spec.root_seed,
        parameters=mp,
        outcome_parameters=op,
        chunk_size=spec.chunk_size,
        outcomes=spec.endpoints is None or needs_questionnaires(spec.endpoints),
    )
    return trial_endpoints(result, spec.endpoints)


def blinded_only(design: TrialDesign) -> TrialDesign:
    """``design`` without its open-label extension (what blinded-phase endpoints need)."""
    if design.crossover is not None or not design.open_label_days:
        return design
    return design.model_copy(update={"open_label_days": 0})


def sample_seed(root_seed: int, index: int) -> int:
    """Root seed of parameter set ``index`` (its own patients)."""
    return int(seed_sequence(root_seed, "uncertainty", index).generate_state(1)[0])


@dataclass(frozen=True)
class Evaluation:
    """Endpoints of one trial per parameter set: ``estimate`` and ``se`` ``{name: (n,)}``."""

    endpoints: tuple[str, ...]
    estimate: dict[str, FloatArray]
    se: dict[str, FloatArray]


def evaluate(
    config: TrialConfig,
    assumptions: Sequence[Assumption],
    values: FloatArray,
    *,
    common_seed: bool = False,
    executor: str | ChunkExecutor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    endpoints: Sequence[str] | None = None,
) -> Evaluation:
    """Run the trial of ``config`` once per row of ``values`` (one value per assumption).

    Every row is one chunk for the executor (default: the configuration's ``[run]`` one); each
    row's seed is named by its index, so the result is identical on every executor.
    ``endpoints`` (names of :func:`trial_endpoints`) limits the evaluation to those, with the
    same values: the questionnaires are then simulated only if one of them reads them.
    """
    run = config.run
    if isinstance(executor, str) or executor is None:
        name = executor or run.executor
        exe = get_executor(name, workers or run.workers, scheduler or run.scheduler)
    else:
        exe = executor
    design = blinded_only(config.design)
    mp, op = config.model_parameters(), load_outcome_parameters()
    chunks = [
        _Sample(
            j,
            design,
            mp,
            op,
            tuple(assumptions),
            np.asarray(row, dtype=np.float64),
            run.n_per_arm,
            run.root_seed if common_seed else sample_seed(run.root_seed, j),
            run.chunk_size,
            None if endpoints is None else tuple(endpoints),
        )
        for j, row in enumerate(np.asarray(values, dtype=np.float64))
    ]
    done = 0

    def on_result(_: int, __: Any) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(chunks))

    results = run_chunks(exe, _run_sample, chunks, on_result if progress is not None else None)
    names = tuple(results[0]) if results else ()
    est = {k: np.array([r.get(k, (np.nan, np.nan))[0] for r in results]) for k in names}
    se = {k: np.array([r.get(k, (np.nan, np.nan))[1] for r in results]) for k in names}
    return Evaluation(names, est, se)


# ------------------------------------------------------------------------------------- result
@dataclass(frozen=True)
class UncertaintyResult:
    """Endpoints over sampled parameter sets and their prediction intervals.

    Attributes
    ----------
    assumptions
        The sampled assumptions (columns of ``values``).
    values
        ``(samples, len(assumptions))`` the parameter sets.
    evaluation
        Each set's trial endpoints (estimate and standard error).
    method, common_seed, root_seed, n_per_arm
        How the sets were drawn and run.
    """

    assumptions: tuple[Assumption, ...]
    values: FloatArray
    evaluation: Evaluation
    method: str
    common_seed: bool
    root_seed: int
    n_per_arm: int
    meta: dict[str, Any] = field(default_factory=dict)

    def intervals(self, level: float = 0.95) -> pd.DataFrame:
        """Per endpoint: median, prediction interval, total / sampling / parameter SD and the
        parameter's share of the variance (see the module's notes)."""
        import pandas as pd

        q = (1 - level) / 2
        rows = []
        for k in self.evaluation.endpoints:
            x = self.evaluation.estimate[k]
            se = self.evaluation.se[k]
            ok = np.isfinite(x)
            if not ok.any():
                continue
            total = float(np.var(x[ok], ddof=1)) if ok.sum() > 1 else float("nan")
            sampling = float(np.nanmean(se[ok] ** 2)) if np.isfinite(se[ok]).any() else np.nan
            param = max(total - sampling, 0.0) if np.isfinite(sampling) else float("nan")
            rows.append(
                {
                    "endpoint": k,
                    "median": float(np.median(x[ok])),
                    "pi_low": float(np.quantile(x[ok], q)),
                    "pi_high": float(np.quantile(x[ok], 1 - q)),
                    "sd_total": float(np.sqrt(total)),
                    "sd_sampling": float(np.sqrt(sampling)),
                    "sd_parameter": float(np.sqrt(param)),
                    "parameter_share": float(param / total) if total > 0 else float("nan"),
                    "samples": int(ok.sum()),
                }
            )
        return pd.DataFrame(rows)

    def samples_frame(self) -> pd.DataFrame:
        """One row per parameter set: its values and its trial's endpoint estimates."""
        import pandas as pd

        cols: dict[str, Any] = {"sample": np.arange(self.values.shape[0])}
        for j, a in enumerate(self.assumptions):
            cols[a.key] = self.values[:, j]
        for k in self.evaluation.endpoints:
            cols[k] = self.evaluation.estimate[k]
        return pd.DataFrame(cols)


def run_uncertainty(
    config: TrialConfig,
    samples: int,
    *,
    method: str = "lhs",
    common_seed: bool = False,
    executor: str | ChunkExecutor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> UncertaintyResult:
    """Sample ``samples`` parameter sets over the ranges and run the trial of ``config`` on each.

    Parameters
    ----------
    config
        The trial (design, condition, patients per arm, root seed, executor).
    samples
        Number of parameter sets (a power of 2 for ``method="sobol"``).
    method
        ``"lhs"`` (Latin hypercube) or ``"sobol"`` (scrambled Sobol).
    common_seed
        Run every set on the configuration's own patients (parameter spread alone) instead of
        each on its own (parameter uncertainty and sampling error together).
    executor, workers, scheduler
        Override the configuration's ``[run]`` executor.
    progress
        ``progress(sets_done, sets_total)``.
    """
    assumptions = ranged_assumptions(config.design, config.run.condition)
    unit = sample_unit(samples, len(assumptions), method, config.run.root_seed)
    values = scale(unit, assumptions)
    ev = evaluate(
        config,
        assumptions,
        values,
        common_seed=common_seed,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
    )
    return UncertaintyResult(
        assumptions, values, ev, method, common_seed, config.run.root_seed, config.run.n_per_arm
    )
