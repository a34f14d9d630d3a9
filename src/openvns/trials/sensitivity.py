"""Global sensitivity of a trial endpoint to the model's assumed values (SALib: Sobol, Morris).

:func:`run_sensitivity` varies every ranged assumption a trial reads (:func:`~openvns.trials.
uncertainty.ranged_assumptions`) uniformly over its range, runs the trial once per point on any
executor, and analyses one endpoint:

``sobol``
    Saltelli's design of ``N (D + 2)`` points (``N`` base samples, a power of 2; ``D``
    assumptions) and first-order and total indices with bootstrap confidence intervals
    (:func:`SALib.analyze.sobol.analyze`, second order off). ``S1`` is the share of the
    endpoint's variance a parameter explains alone, ``ST`` with all its interactions.
``morris``
    ``r (D + 1)`` points on ``r`` elementary-effect trajectories; ``μ*`` (mean absolute
    elementary effect, in the endpoint's unit per range) ranks the parameters, ``σ`` flags
    non-linearity and interactions (:func:`SALib.analyze.morris.analyze`).

Every point runs the configuration's own patients (common random numbers): the indices are of
the endpoint at this cohort, not of the sampling error between cohorts. SALib (MIT) is the
``sensitivity`` extra (``pip install 'openvns[sensitivity]'``), imported only here, when used.

The wrappers :func:`sobol_design`, :func:`sobol_indices`, :func:`morris_design` and
:func:`morris_indices` take plain names and bounds, so they are tested on functions with known
indices (Ishigami, linear).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from openvns.errors import ValidationError
from openvns.random import seed_sequence
from openvns.trials.executors import ChunkExecutor
from openvns.trials.uncertainty import (
    Assumption,
    check_endpoint,
    default_endpoint,
    evaluate,
    ranged_assumptions,
)

if TYPE_CHECKING:
    import pandas as pd

    from openvns.trials.config import TrialConfig

FloatArray = npt.NDArray[np.float64]
log = logging.getLogger(__name__)

__all__ = [
    "SENSITIVITY_METHODS",
    "SensitivityResult",
    "analyse_function",
    "morris_design",
    "morris_indices",
    "run_sensitivity",
    "sobol_design",
    "sobol_indices",
]

#: Methods of :func:`run_sensitivity`.
SENSITIVITY_METHODS: tuple[str, ...] = ("sobol", "morris")
_HINT = "pip install 'openvns[sensitivity]'"
#: Bootstrap resamples of the confidence intervals, and their level.
_RESAMPLES = 200
_CONFIDENCE = 0.95


def _salib(module: str) -> Any:
    """``SALib.<module>``, or an ImportError naming the extra to install."""
    try:
        return importlib.import_module(f"SALib.{module}")
    except ImportError as exc:
        raise ImportError(
            f"sensitivity analysis needs SALib, which is not installed; install it with: {_HINT}"
        ) from exc


def _problem(names: Sequence[str], bounds: npt.ArrayLike) -> dict[str, Any]:
    b = np.asarray(bounds, dtype=np.float64)
    if b.shape != (len(names), 2) or not (b[:, 0] < b[:, 1]).all():
        raise ValidationError("bounds", b.tolist(), "one [low, high] with low < high per name")
    return {"num_vars": len(names), "names": list(names), "bounds": b.tolist()}


def _seed(root_seed: int, *keys: str) -> int:
    return int(seed_sequence(root_seed, "sensitivity", *keys).generate_state(1)[0])


def sobol_design(
    names: Sequence[str], bounds: npt.ArrayLike, base_samples: int, root_seed: int
) -> FloatArray:
    """Saltelli's ``(base_samples (D + 2), D)`` points for first-order and total indices.

    Raises
    ------
    ValidationError
        ``base_samples`` not a power of 2 ≥ 2 (the Sobol sequence loses its balance).
    """
    n = base_samples
    if isinstance(n, bool) or not isinstance(n, int) or n < 2 or n & (n - 1):
        raise ValidationError("base_samples", n, "a power of 2 ≥ 2 (64, 128, 256, …)")
    sample = _salib("sample.sobol")
    x = sample.sample(
        _problem(names, bounds),
        n,
        calc_second_order=False,
        scramble=True,
        seed=_seed(root_seed, "sobol"),
    )
    return np.asarray(x, dtype=np.float64)


def sobol_indices(
    names: Sequence[str], bounds: npt.ArrayLike, y: npt.ArrayLike, root_seed: int
) -> pd.DataFrame:
    """First-order and total Sobol indices of ``y`` (on :func:`sobol_design`'s points) with
    bootstrap 95 % confidence half-widths: columns ``S1``, ``S1_conf``, ``ST``, ``ST_conf``."""
    import pandas as pd

    analyze = _salib("analyze.sobol")
    values = _finite(y)
    if np.ptp(values) == 0:  # a constant endpoint: no parameter explains any variance
        log.warning("the endpoint is the same for every parameter set: every index is 0")
        zeros = np.zeros(len(names))
        return pd.DataFrame(
            {"S1": zeros, "S1_conf": zeros, "ST": zeros, "ST_conf": zeros},
            index=pd.Index(list(names), name="parameter"),
        )
    si = analyze.analyze(
        _problem(names, bounds),
        values,
        calc_second_order=False,
        num_resamples=_RESAMPLES,
        conf_level=_CONFIDENCE,
        print_to_console=False,
        seed=_seed(root_seed, "sobol-bootstrap"),
    )
    return pd.DataFrame(
        {k: np.asarray(si[k], dtype=np.float64) for k in ("S1", "S1_conf", "ST", "ST_conf")},
        index=pd.Index(list(names), name="parameter"),
    )


def morris_design(
    names: Sequence[str], bounds: npt.ArrayLike, trajectories: int, root_seed: int, levels: int = 4
) -> FloatArray:
    """``(trajectories (D + 1), D)`` points on Morris trajectories over ``levels`` levels."""
    if isinstance(trajectories, bool) or not isinstance(trajectories, int) or trajectories < 2:
        raise ValidationError("trajectories", trajectories, "a whole number ≥ 2")
    sample = _salib("sample.morris")
    x = sample.sample(
        _problem(names, bounds), trajectories, num_levels=levels, seed=_seed(root_seed, "morris")
    )
    return np.asarray(x, dtype=np.float64)


def morris_indices(
    names: Sequence[str],
    bounds: npt.ArrayLike,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    root_seed: int,
    levels: int = 4,
) -> pd.DataFrame:
    """Morris ``mu``, ``mu_star`` (with its 95 % confidence half-width ``mu_star_conf``) and
    ``sigma`` of ``y`` on :func:`morris_design`'s points ``x`` (effects per whole range)."""
    import pandas as pd

    analyze = _salib("analyze.morris")
    si = analyze.analyze(
        _problem(names, bounds),
        np.asarray(x, dtype=np.float64),
        _finite(y),
        num_resamples=_RESAMPLES,
        conf_level=_CONFIDENCE,
        num_levels=levels,
        print_to_console=False,
        seed=_seed(root_seed, "morris-bootstrap"),
    )
    return pd.DataFrame(
        {
            k: np.asarray(si[k], dtype=np.float64)
            for k in ("mu", "mu_star", "mu_star_conf", "sigma")
        },
        index=pd.Index(list(names), name="parameter"),
    )


def _finite(y: npt.ArrayLike) -> FloatArray:
    values = np.asarray(y, dtype=np.float64).reshape(-1)
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise ValidationError(
            "endpoint",
            f"{bad} undefined values",
            "an endpoint defined for every parameter set "
            "(more patients per arm, or another endpoint)",
        )
    return values


def analyse_function(
    fn: Callable[[FloatArray], FloatArray],
    names: Sequence[str],
    bounds: npt.ArrayLike,
    *,
    method: str = "sobol",
    base_samples: int = 1024,
    trajectories: int = 100,
    root_seed: int = 0,
) -> pd.DataFrame:
    """Indices of a vectorised ``fn(points (n, D)) -> (n,)`` (the wrapper on a known function)."""
    if method == "sobol":
        x = sobol_design(names, bounds, base_samples, root_seed)
        return sobol_indices(names, bounds, fn(x), root_seed)
    if method == "morris":
        x = morris_design(names, bounds, trajectories, root_seed)
        return morris_indices(names, bounds, x, fn(x), root_seed)
    raise ValidationError("method", method, "one of " + ", ".join(SENSITIVITY_METHODS))


@dataclass(frozen=True)
class SensitivityResult:
    """Indices of one endpoint over the ranged assumptions.

    Attributes
    ----------
    method, endpoint
        ``"sobol"`` or ``"morris"``, and the endpoint analysed (:func:`~openvns.trials.
        uncertainty.trial_endpoints`' names).
    assumptions
        The varied assumptions (rows of ``indices``, in order).
    indices
        Per parameter: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (Sobol) or ``mu``, ``mu_star``,
        ``mu_star_conf``, ``sigma`` (Morris), sorted by ``ST`` or ``mu_star``, largest first.
    values, y
        The design's parameter sets and the endpoint of each.
    runs, base_samples
        Trials run, and the Sobol base samples or the Morris trajectories.
    """

    method: str
    endpoint: str
    assumptions: tuple[Assumption, ...]
    indices: pd.DataFrame
    values: FloatArray
    y: FloatArray
    runs: int
    base_samples: int

    def ranked(self) -> pd.DataFrame:
        """The indices with each parameter's set, unit and range (largest first)."""
        info = {a.key: a for a in self.assumptions}
        out = self.indices.copy()
        out.insert(0, "set", [info[k].set_name for k in out.index])
        ranges = [info[k].range for k in out.index]
        out["low"] = [r.low if r is not None else np.nan for r in ranges]
        out["high"] = [r.high if r is not None else np.nan for r in ranges]
        out["unit"] = [info[k].unit for k in out.index]
        return out


def run_sensitivity(
    config: TrialConfig,
    *,
    method: str = "sobol",
    endpoint: str | None = None,
    base_samples: int = 256,
    trajectories: int = 20,
    executor: str | ChunkExecutor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """Global sensitivity of ``endpoint`` of the trial of ``config`` to its ranged assumptions.

    Parameters
    ----------
    config
        The trial (design, condition, patients per arm, root seed, executor).
    method
        ``"sobol"`` (``base_samples (D + 2)`` trials) or ``"morris"`` (``trajectories (D + 1)``).
    endpoint
        An endpoint name of :func:`~openvns.trials.uncertainty.trial_endpoints`; default the
        first arm minus the second in blinded change of NRS (``active-sham.change_NRS``).
    base_samples, trajectories
        Sobol base samples (a power of 2) and Morris trajectories.
    executor, workers, scheduler, progress
        As :func:`~openvns.trials.uncertainty.run_uncertainty`.
    """
    if method not in SENSITIVITY_METHODS:
        raise ValidationError("method", method, "one of " + ", ".join(SENSITIVITY_METHODS))
    name = check_endpoint(
        endpoint or default_endpoint(config.design), config.design, config.run.condition
    )
    assumptions = ranged_assumptions(config.design, config.run.condition, endpoint=name)
    keys = [a.key for a in assumptions]
    bounds = [[a.range.low, a.range.high] for a in assumptions if a.range is not None]
    seed = config.run.root_seed
    if method == "sobol":
        x = sobol_design(keys, bounds, base_samples, seed)
    else:
        x = morris_design(keys, bounds, trajectories, seed)
    log.info(
        "sensitivity: %s of %s over %d assumptions, %d trials", method, name, len(keys), x.shape[0]
    )
    ev = evaluate(
        config,
        assumptions,
        x,
        common_seed=True,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        endpoints=[name],  # only what the analysis reads: the same values, far less work
    )
    if name not in ev.estimate:
        raise ValidationError("endpoint", name, "one of " + ", ".join(ev.endpoints))
    y = ev.estimate[name]
    if method == "sobol":
        idx = sobol_indices(keys, bounds, y, seed).sort_values("ST", ascending=False)
    else:
        idx = morris_indices(keys, bounds, x, y, seed).sort_values("mu_star", ascending=False)
    return SensitivityResult(
        method,
        name,
        assumptions,
        idx,
        x,
        y,
        int(x.shape[0]),
        base_samples if method == "sobol" else trajectories,
    )
