"""Simulation-based power and sample size of a trial design, vectorised across replicates.

A power curve runs the design's trial ``R`` times at each number of patients per arm and counts
how often each blinded-phase endpoint test of :meth:`TrialResult.summary
<openvns.trials.runner.TrialResult.summary>` rejects at level ``α``: the Welch t test of the
change in mean NRS, the chi-square / Fisher tests of the ≥ 30 % and ≥ 50 % responder rates,
and for a headache condition its primary prevention endpoint (change of monthly migraine days,
or attacks per week for cluster headache; Welch) and its ≥ 50 % responders. Each other arm is
compared with the first, as in the summary.

Replicates
    Replicate ``r`` (0-based) is the block of patients ``(r + 1) · 2³² + j`` of the condition
    (``j = 0, 1, …``) under the run's root seed: every patient's streams are its own
    ``SeedSequence`` child keyed by its index (:func:`openvns.random.rng_for`), so a replicate's
    patients are disjoint from every other replicate's and from the patients ``0, 1, …`` of an
    ``openvns trial run`` with the same seed, and a replicate's result does not depend on ``R``,
    on the order in which the patients run, on the chunking or on the executor. Arms are
    assigned in the block's order by the allocation ratio repeated (1:1 → 0, 1, 0, 1, …), so the
    first ``n · Σratio`` patients of a block hold ``n · ratio`` patients of each arm.

    A replicate screens before it randomises, as :func:`~openvns.trials.runner.run_trial`
    does: each of the block's candidates has its arm on the allocation list (the ratio
    repeated) and is randomised there if its baseline diary meets the inclusion criteria and
    the arm still needs patients (:func:`screened_blocks`).

    Replicate ``r`` at ``n`` per arm is the first ``n · Σratio`` patients of block ``r``: each
    size's replicates are the prefixes of the largest size's (common random numbers), so one
    cohort of ``n_max · Σratio · R`` patients is simulated for the whole curve and the curve's
    differences between sizes carry less Monte-Carlo noise than independent runs would.

Only the baseline and the blinded phase are simulated (the open-label extension is dropped:
the endpoints end with the blinded phase, and the engine runs day by day, so the blinded-phase
diaries are the same bit for bit). The endpoints follow the summary: eligible patients, the
change from baseline to the last four weeks of the blinded phase, Welch on the patients with a
change, responders with a missing change counted as non-responders; the tests are
:mod:`openvns.trials.power_stats`. Power ``p = k / R`` has the Monte-Carlo standard error
``√(p (1 − p) / R)``. Crossover designs are not covered (their analysis is Hills–Armitage).

A randomised-withdrawal design (``[trial.withdrawal]``) adds its own endpoint as the first row,
the loss of response among the run-in responders (withdrawn − continued, the test of
:func:`~openvns.trials.withdrawal.withdrawal_outcome`), and keeps the parallel endpoints beside
it; see :mod:`openvns.trials.power_withdrawal`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from openvns.analysis.endpoints import change_from_baseline, endpoint_window
from openvns.analysis.headache import diary_frequency_change
from openvns.analysis.headache_parameters import headache_number
from openvns.analysis.statistics import Comparison, newcombe_difference, welch_difference
from openvns.errors import ValidationError
from openvns.patients.attack_parameters import headache_conditions
from openvns.simulation.parameters import ModelParameters
from openvns.trials.design import TrialDesign
from openvns.trials.executors import ChunkExecutor, get_executor, run_chunks
from openvns.trials.headache import default_measure
from openvns.trials.power_sequential import SequentialPower, sequential_power
from openvns.trials.power_stats import (
    ENDPOINT_LABELS,
    NForPower,
    PatientEndpoints,
    endpoint_keys,
    endpoint_label,
    mc_standard_error,
    n_for_power,
    replicate_tests,
)
from openvns.trials.power_withdrawal import (
    WITHDRAWAL_ENDPOINT,
    WithdrawalPower,
    comparison_label,
    withdrawal_comparison,
    withdrawal_flags,
    withdrawal_power,
    withdrawal_tests,
)
from openvns.trials.screening import MAX_SCREENED_PER_RANDOMISED, screen

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Progress = Callable[[int, int], None]

log = logging.getLogger(__name__)

__all__ = [
    "ENDPOINT_LABELS",
    "EndpointPower",
    "NForPower",
    "PatientEndpoints",
    "PowerCurve",
    "allocation",
    "large_sample_effect",
    "n_for_power",
    "patient_endpoints",
    "power_curve",
    "recruitment_warm_up",
    "replicate_indices",
    "replicate_tests",
]

#: Patient indices of replicate ``r`` start at ``(r + 1) · REPLICATE_STRIDE`` (a block).
REPLICATE_STRIDE = 2**32
#: The block of the large-sample run (beyond every replicate's block).
LARGE_SAMPLE_BLOCK = 2**30
#: Replicates allowed (each needs its own block below the large-sample block).
MAX_REPLICATES = LARGE_SAMPLE_BLOCK - 2
#: Most patients one run simulates (replicates × largest size × Σratio): their endpoint values
#: are held in memory (about 40 bytes a patient).
MAX_SIMULATED_PATIENTS = 10_000_000


def replicate_indices(replicate: int, n_patients: int) -> IntArray:
    """Indices of replicate ``replicate``'s first ``n_patients`` candidates (its block; the
    replicate's patients are those of them who pass screening, :func:`screened_blocks`)."""
    return (replicate + 1) * REPLICATE_STRIDE + np.arange(n_patients, dtype=np.int64)


def allocation(design: TrialDesign, n_patients: int) -> IntArray:
    """Arm index of each of a block's first ``n_patients``: the ratio repeated (1:2 → 0,1,1,…)."""
    pattern = np.repeat(np.arange(len(design.arms), dtype=np.int64), design.ratio)
    return pattern[np.arange(n_patients) % pattern.size]


@dataclass(frozen=True)
class _Chunk:
    design: TrialDesign
    parameters: ModelParameters
    root_seed: int
    indices: IntArray
    arms: IntArray


def blinded_design(design: TrialDesign) -> TrialDesign:
    """``design`` without its open-label extension (what the endpoints need)."""
    return TrialDesign.from_dict({**design.to_dict(), "open_label_days": 0})


def patient_endpoints(
    design: TrialDesign,
    indices: npt.ArrayLike,
    arms: npt.ArrayLike,
    *,
    root_seed: int,
    parameters: ModelParameters,
) -> PatientEndpoints:
    """Simulate patients ``indices`` in ``arms`` (:func:`~openvns.trials.runner.simulate_patients`)
    and compute their blinded-phase endpoint values (with a withdrawal design's run-in
    responders and losses of response)."""
    from openvns.trials.runner import simulate_patients

    d = design
    out = simulate_patients(d, indices, arms, root_seed=root_seed, parameters=parameters)
    base, end = d.baseline_days, d.baseline_days + d.blinded_days
    ch = change_from_baseline(
        out["nrs"][:, :end].astype(np.float64),
        out["observed"][:, :end],
        slice(0, base),
        endpoint_window(end, base),
    )
    responder, lost = withdrawal_flags(d, out["nrs"][:, :end], out["observed"][:, :end])
    n = ch.change_NRS.shape[0]
    hc, hp = np.full(n, np.nan), np.full(n, np.nan)
    condition = parameters.condition.name
    if condition in headache_conditions() and out.get("attacks") is not None:
        m = default_measure(condition)
        w = 14 if m == "attacks" else 28  # the window of trials.headache.prevention_change
        attacks: Any = out["attacks"]
        fc = diary_frequency_change(attacks, m, slice(0, base), slice(end - w, end))
        hc, hp = fc.change, fc.change_pct
    return PatientEndpoints(
        np.asarray(out["eligible"], dtype=bool), ch.change_NRS, ch.change_pct, hc, hp,
        responder, lost,
    )  # fmt: skip


def recruitment_warm_up(design: TrialDesign) -> None:
    """Load (or build) every arm's recruitment table in this process, before a timed run."""
    from openvns.trials.runner import arm_recruitment

    arm_recruitment(design)


def _run_chunk(spec: _Chunk) -> PatientEndpoints:
    return patient_endpoints(
        spec.design, spec.indices, spec.arms, root_seed=spec.root_seed, parameters=spec.parameters
    )


@dataclass(frozen=True)
class EndpointPower:
    """One comparison's endpoint across the sizes: rejections, power and its MC error."""

    comparison: str
    endpoint: str
    label: str
    rejections: IntArray
    power: FloatArray
    mc_se: FloatArray


@dataclass(frozen=True)
class PowerCurve:
    """Power of each endpoint at each size (patients per unit of allocation ratio)."""

    condition: str
    arm_names: tuple[str, ...]
    sizes: tuple[int, ...]
    replicates: int
    alpha: float
    root_seed: int
    endpoints: tuple[EndpointPower, ...]
    simulated_patient_days: int = 0
    elapsed_s: float = 0.0
    config: dict[str, Any] = field(default_factory=dict, repr=False)
    sequential: SequentialPower | None = None
    withdrawal: WithdrawalPower | None = None

    def n_for(self, target: float) -> dict[tuple[str, str], NForPower]:
        """``{(comparison, endpoint): NForPower}`` for ``target`` power (e.g. 0.8)."""
        return {
            (e.comparison, e.endpoint): n_for_power(self.sizes, e.power, target)
            for e in self.endpoints
        }

    def get(self, comparison: str, endpoint: str) -> EndpointPower:
        """The entry of ``endpoint`` for ``comparison`` (``"active − sham"``)."""
        for e in self.endpoints:
            if (e.comparison, e.endpoint) == (comparison, endpoint):
                return e
        raise ValidationError("endpoint", f"{comparison}: {endpoint}", "one of the curve's")


def _check(design: TrialDesign, replicates: int, alpha: float) -> None:
    if design.crossover is not None:
        raise ValidationError(
            "trial.crossover", "set", "a parallel design (power of a crossover is not simulated)"
        )
    if len(design.arms) < 2:
        raise ValidationError("trial.arms", len(design.arms), "at least two arms to compare")
    if design.baseline_days < 1:
        raise ValidationError("baseline_days", design.baseline_days, "≥ 1 day for endpoints")
    if isinstance(replicates, bool) or not isinstance(replicates, int):
        raise ValidationError("replicates", replicates, f"a whole number 1 to {MAX_REPLICATES}")
    if not 1 <= replicates <= MAX_REPLICATES:
        raise ValidationError("replicates", replicates, f"a whole number 1 to {MAX_REPLICATES}")
    if not (isinstance(alpha, float | int) and 0.0 < alpha < 1.0):
        raise ValidationError("alpha", alpha, "a level strictly between 0 and 1, e.g. 0.05")


def _simulate(
    design: TrialDesign,
    blocks: Sequence[tuple[int, int]],
    *,
    root_seed: int,
    parameters: ModelParameters,
    run: ChunkExecutor,
    chunk_size: int,
    progress: Progress | None,
    done: int = 0,
    total: int | None = None,
) -> PatientEndpoints:
    """Endpoint values of blocks ``(block, n_patients)``, concatenated in block order: each
    block's first ``n_patients`` candidates who pass screening (:func:`screened_blocks`)."""
    indices = np.concatenate(
        screened_blocks(design, blocks, root_seed, parameters, run, chunk_size)
    )
    arms = np.concatenate([allocation(design, n) for _, n in blocks])
    chunks = [
        _Chunk(design, parameters, root_seed, indices[s : s + chunk_size], arms[s : s + chunk_size])
        for s in range(0, indices.size, chunk_size)
    ]
    total = indices.size if total is None else total
    count = done

    def on_result(i: int, _: PatientEndpoints) -> None:
        nonlocal count
        count += int(chunks[i].indices.size)
        if progress is not None:
            progress(count, total)

    parts = run_chunks(run, _run_chunk, chunks, on_result if progress is not None else None)
    return PatientEndpoints(
        **{
            k: np.concatenate([getattr(p, k) for p in parts])
            for k in PatientEndpoints.__dataclass_fields__
        }
    )


@dataclass(frozen=True)
class _Screen:
    design: TrialDesign
    parameters: ModelParameters
    root_seed: int
    blocks: tuple[tuple[int, int], ...]


def _run_screen(spec: _Screen) -> list[IntArray]:
    out = []
    for b, n in spec.blocks:
        slots = allocation(spec.design, n)
        plan = allocation(spec.design, MAX_SCREENED_PER_RANDOMISED * n)
        wanted = np.bincount(slots, minlength=len(spec.design.arms))
        idx, arms, _ = screen(spec.design, spec.parameters, spec.root_seed, wanted, plan,
                              first_index=(b + 1) * REPLICATE_STRIDE)  # fmt: skip
        ordered = np.empty(n, dtype=np.int64)
        for a in range(len(spec.design.arms)):
            ordered[slots == a] = idx[arms == a]  # arm a's k-th patient fills its k-th slot
        out.append(ordered)
    return out


def screened_blocks(
    design: TrialDesign,
    blocks: Sequence[tuple[int, int]],
    root_seed: int,
    parameters: ModelParameters,
    run: ChunkExecutor,
    chunk_size: int,
) -> list[IntArray]:
    """Per block ``(block, n)``: the ``n`` patients a trial screening the block's candidates
    would randomise (:func:`openvns.trials.screening.screen` from the block's first index, the
    allocation list the ratio repeated), in the order of :func:`allocation`'s slots: arm
    ``a``'s ``k``-th patient fills arm ``a``'s ``k``-th slot, so a size's replicate, the first
    ``n · Σratio`` slots, is the trial of that size. The blocks are screened on the executor,
    several to a task up to ``chunk_size`` patients."""
    tasks: list[list[tuple[int, int]]] = [[]]
    size = 0
    for b, n in blocks:
        if tasks[-1] and size + n > chunk_size:
            tasks.append([])
            size = 0
        tasks[-1].append((b, n))
        size += n
    specs = [_Screen(design, parameters, root_seed, tuple(t)) for t in tasks if t]
    return [idx for part in run_chunks(run, _run_screen, specs) for idx in part]


def _check_total(n_patients: int, what: str) -> None:
    if n_patients > MAX_SIMULATED_PATIENTS:
        raise ValidationError(
            what,
            f"{n_patients:,} patients",
            f"at most {MAX_SIMULATED_PATIENTS:,} simulated patients in one run (fewer replicates "
            "or smaller sizes)",
        )


def _parameters(parameters: ModelParameters | None, condition: str) -> ModelParameters:
    if parameters is not None:
        return parameters
    from openvns.patients.conditions import load_condition

    return ModelParameters.default(load_condition(condition))


def _sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    out = []
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
            raise ValidationError("n", n, "patients per arm, whole numbers ≥ 2")
        out.append(int(n))
    if not out:
        raise ValidationError("n", list(sizes), "at least one size (patients per arm)")
    return tuple(sorted(set(out)))


def power_curve(
    design: TrialDesign,
    sizes: Sequence[int],
    *,
    replicates: int,
    root_seed: int,
    parameters: ModelParameters | None = None,
    condition: str = "fibromyalgia",
    alpha: float = 0.05,
    executor: Literal["serial", "process", "dask"] | ChunkExecutor = "serial",
    workers: int = 1,
    scheduler: str | None = None,
    chunk_size: int = 2048,
    progress: Progress | None = None,
) -> PowerCurve:
    """Simulated power of every endpoint of ``design`` at each of ``sizes`` patients per arm.

    Parameters
    ----------
    design
        A parallel or randomised-withdrawal design with at least two arms (the open-label
        extension is not simulated).
    sizes
        Patients per unit of allocation ratio (1:1 → per arm), each ≥ 2; sorted, repeats dropped.
    replicates
        Trials per size, ``R``.
    root_seed
        Root of every stream (see the module docstring for the replicates' patients).
    parameters, condition
        The model's parameter sets (default: the shipped ones of ``condition``).
    alpha
        Two-sided level of every test; a replicate rejects when ``p < alpha``.
    executor, workers, scheduler, chunk_size
        As in :func:`~openvns.trials.runner.run_trial`.
    progress
        ``progress(patients_done, patients_total)`` after each chunk.
    """
    _check(design, replicates, alpha)
    ns = _sizes(sizes)
    mp = _parameters(parameters, condition)
    blinded = blinded_design(design)
    run = get_executor(executor, workers, scheduler) if isinstance(executor, str) else executor
    k = sum(design.ratio)
    n_block = ns[-1] * k
    _check_total(replicates * n_block, "replicates × n × Σratio")
    t0 = time.perf_counter()
    log.info("power: %d replicates × %d patients", replicates, n_block)
    ep = _simulate(
        blinded,
        [(r, n_block) for r in range(replicates)],
        root_seed=root_seed,
        parameters=mp,
        run=run,
        chunk_size=chunk_size,
        progress=progress,
    )
    ep = ep.reshape(replicates)
    names = tuple(a.name for a in design.arms)
    cond = mp.condition.name
    rejections: dict[tuple[int, str], list[int]] = {}
    for n in ns:
        sub, arms = ep.take(n * k), allocation(design, n * k)
        tests: dict[tuple[int, str], tuple[FloatArray, FloatArray]] = {}
        if design.withdrawal is not None:  # the design's own endpoint first
            tests[1, WITHDRAWAL_ENDPOINT] = withdrawal_tests(sub, arms)
        tests.update(replicate_tests(sub, arms, len(names), cond))
        for key, (_, p) in tests.items():
            rejections.setdefault(key, []).append(int(np.sum(p < alpha)))
    sequential = None
    if design.interim is not None:
        sequential = sequential_power(
            ep, lambda total: allocation(design, total), design.interim, ns, k
        )
    withdrawal = None
    if design.withdrawal is not None:
        withdrawal = withdrawal_power(design, ep, lambda total: allocation(design, total), ns, k)
    entries = []
    for (a, endpoint), counts in rejections.items():
        rej = np.asarray(counts, np.int64)
        power = rej / replicates
        entries.append(
            EndpointPower(
                comparison_label(names, a, endpoint),
                endpoint,
                endpoint_label(endpoint, cond),
                rej,
                power,
                mc_standard_error(power, replicates),
            )
        )
    return PowerCurve(
        condition=cond,
        arm_names=names,
        sizes=ns,
        replicates=replicates,
        alpha=float(alpha),
        root_seed=root_seed,
        endpoints=tuple(entries),
        simulated_patient_days=replicates
        * n_block
        * (blinded.baseline_days + blinded.blinded_days),
        elapsed_s=time.perf_counter() - t0,
        config={"design": design.to_dict()},
        sequential=sequential,
        withdrawal=withdrawal,
    )


def large_sample_effect(
    design: TrialDesign,
    *,
    root_seed: int,
    n_per_arm: int = 5000,
    parameters: ModelParameters | None = None,
    condition: str = "fibromyalgia",
    confidence: float = 0.95,
    executor: Literal["serial", "process", "dask"] | ChunkExecutor = "serial",
    workers: int = 1,
    scheduler: str | None = None,
    chunk_size: int = 2048,
    progress: Progress | None = None,
) -> dict[tuple[str, str], Comparison]:
    """The model's effect on every endpoint from one big trial (``n_per_arm`` per arm).

    The patients are a block of their own (:data:`LARGE_SAMPLE_BLOCK`), disjoint from the power
    replicates' and from a trial run's. Returns ``{(comparison, endpoint): Comparison}`` with the
    summary's interval (Welch, Newcombe) and p-value; a withdrawal design's loss of response
    (``("withdraw − continue", "lost_response")``) first, as ``withdrawal_outcome``.
    """
    _check(design, 1, 0.05)
    (n,) = _sizes([n_per_arm])
    mp = _parameters(parameters, condition)
    blinded = blinded_design(design)
    run = get_executor(executor, workers, scheduler) if isinstance(executor, str) else executor
    n_total = n * sum(design.ratio)
    _check_total(n_total, "n_per_arm × Σratio")
    ep = _simulate(
        blinded,
        [(LARGE_SAMPLE_BLOCK, n_total)],
        root_seed=root_seed,
        parameters=mp,
        run=run,
        chunk_size=chunk_size,
        progress=progress,
    )
    return _comparisons(ep, allocation(design, n_total), design, mp.condition.name, confidence)


def _comparisons(
    ep: PatientEndpoints, arms: IntArray, design: TrialDesign, condition: str, confidence: float
) -> dict[tuple[str, str], Comparison]:
    names = [a.name for a in design.arms]
    out: dict[tuple[str, str], Comparison] = {}
    if design.withdrawal is not None:
        wd = comparison_label(names, 1, WITHDRAWAL_ENDPOINT)
        out[wd, WITHDRAWAL_ENDPOINT] = withdrawal_comparison(ep, arms, confidence=confidence)
    resp = headache_number("responder_pct")
    for a in range(1, len(names)):
        label = f"{names[0]} − {names[a]}"
        sa, sb = (arms == 0) & ep.eligible, (arms == a) & ep.eligible
        for key in endpoint_keys(condition):
            head = key.startswith("headache")
            change = ep.headache_change if head else ep.change_NRS
            pct = ep.headache_pct if head else ep.change_pct
            if key.endswith("change") or key == "change_NRS":
                out[label, key] = welch_difference(change[sa], change[sb], confidence=confidence)
                continue
            thr = resp if head else float(key.rsplit("_", 1)[1])
            x = [int(np.sum(np.nan_to_num(pct[s], nan=0.0) <= -thr + 1e-9)) for s in (sa, sb)]
            m = [int(np.sum(s)) for s in (sa, sb)]
            nan = float("nan")
            out[label, key] = (
                newcombe_difference(x[0], m[0], x[1], m[1], confidence=confidence)
                if min(m) > 0
                else Comparison(nan, nan, nan, nan, "none (empty arm)")
            )
    return out
