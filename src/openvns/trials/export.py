"""Tidy export of a :class:`~openvns.trials.runner.TrialResult`: one row per patient-day.

Columns of :func:`tidy_columns`, in order (rows patient-major: all days of the first patient,
then the next):

``patient``
    Patient name ``condition#index`` (``fibromyalgia#0042``), the same patient in every run with
    the same root seed.
``patient_index``, ``arm``
    Index of the patient in the condition's stream and the name of the randomised arm.
``day``, ``phase``
    Day 0-based from the first baseline day; ``"baseline"``, ``"blinded"`` or ``"open_label"``
    from the design's phase lengths.
``nrs``, ``observed``
    Diary NRS (0–10) as a float, NaN where the entry is not observed (missed, or after dropout);
    whether it is observed.
``current_mA``
    Programmed output current (mA): 0 at baseline, in the sham arm and after dropout.
``ae_<side effect>``
    One bool column per side effect of :data:`~openvns.physiology.model.SIDE_EFFECTS`: reported
    that day.
``dropped_out``
    On or after the patient's dropout day.
``eligible``
    The baseline diary meets the inclusion criteria (the analysis population).

Headache conditions (a trial with an attack diary) add the diary's columns (:data:`ATTACK_COLUMNS`;
as the attack diary, values are filled on every day, and an analysis counts only the days with
``headache_observed``, as :mod:`openvns.analysis.headache` does):

``attacks``
    Attack onsets that day.
``headache_day``, ``migraine_day``
    Any headache that day; a migraine that day (cluster headache: an attack day).
``peak_severity``
    Worst severity of the attacks present that day on the condition's scale (0–3 migraine, 0–4
    cluster headache), NaN without one.
``attack_duration_min``
    Mean untreated duration (minutes) of the attacks that started that day, NaN without one.
``rescue``
    Acute rescue medication taken that day.
``headache_observed``
    The attack-diary entry of that day exists.
``treated_attacks``
    Attacks treated with the device that day (acute use).

In files, missing NRS values are nulls (``NaN`` in pandas, ``null`` in polars and Arrow);
:func:`read_tidy` reads either format back into the arrays of :func:`tidy_columns`.

:func:`per_patient_columns` gives one row per patient with the blinded-phase endpoints.
Writes are atomic (:func:`openvns.files.atomic_write`: a temporary file in the target's
directory replaced by ``os.replace``), so a failed write leaves any previous file untouched.
``pyarrow`` is imported only when writing or reading.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from openvns.analysis.endpoints import (
    bpi_interference_change,
    change_from_baseline,
    endpoint_window,
    fiqr_change,
    pgic_much_improved,
    responders,
    sleep_change,
)
from openvns.errors import ValidationError
from openvns.files import atomic_write
from openvns.physiology.model import DROPOUT_REASONS

if TYPE_CHECKING:
    from openvns.trials.runner import TrialResult

log = logging.getLogger(__name__)

Columns = dict[str, npt.NDArray[Any]]

#: File suffixes :func:`export_tidy` understands.
SUFFIXES: tuple[str, ...] = (".csv", ".parquet")
PHASES: tuple[str, ...] = ("baseline", "blinded", "open_label")
#: Columns of :func:`tidy_columns` added for a headache condition, in order.
ATTACK_COLUMNS: tuple[str, ...] = (
    "attacks",
    "headache_day",
    "migraine_day",
    "peak_severity",
    "attack_duration_min",
    "rescue",
    "headache_observed",
    "treated_attacks",
)

__all__ = [
    "ATTACK_COLUMNS",
    "PHASES",
    "SUFFIXES",
    "atomic_write",
    "export_tidy",
    "final_current_mA",
    "last_day",
    "per_patient_columns",
    "phase_of_day",
    "read_tidy",
    "tidy_columns",
    "write_csv",
    "write_parquet",
]


def phase_of_day(result: TrialResult) -> npt.NDArray[np.str_]:
    """``(days,)`` phase name of every day of the trial, from the design's phase lengths."""
    d = result.design
    day = np.arange(result.n_days)
    index = (day >= d.baseline_days).astype(np.int64) + (
        day >= d.baseline_days + d.blinded_days
    ).astype(np.int64)
    return np.asarray(PHASES, dtype=np.str_)[index]


def last_day(result: TrialResult) -> npt.NDArray[np.int64]:
    """``(patients,)`` each patient's last day in the study (the dropout day or the last day)."""
    return np.where(result.dropout_day >= 0, result.dropout_day, result.n_days - 1).astype(np.int64)


def _reason_labels(result: TrialResult) -> npt.NDArray[np.str_]:
    """Each patient's reason for discontinuing as text (empty for completers)."""
    labels = np.asarray(("", *DROPOUT_REASONS[1:]), dtype=np.str_)
    if result.dropout_reason is None:
        return np.full(result.n_patients, "", dtype=labels.dtype)
    return labels[result.dropout_reason.astype(np.int64)]


def final_current_mA(result: TrialResult) -> npt.NDArray[np.float64]:
    """``(patients,)`` programmed current (mA) on each patient's last day in the study."""
    out: npt.NDArray[np.float64] = result.current_mA[np.arange(result.n_patients), last_day(result)]
    return out


def tidy_columns(result: TrialResult) -> Columns:
    """One row per patient-day (``patients · days`` rows); see the module docstring.

    Parameters
    ----------
    result
        A trial result.

    Returns
    -------
    dict of str to numpy.ndarray
        Equal-length columns in the documented order.
    """
    n_p, n_d = result.n_patients, result.n_days
    day = np.arange(n_d, dtype=np.int64)
    in_or_after = (result.dropout_day[:, None] >= 0) & (day[None, :] >= result.dropout_day[:, None])
    cols: Columns = {
        "patient": np.repeat(np.asarray(result.patient_names, dtype=np.str_), n_d),
        "patient_index": np.repeat(result.patient_index.astype(np.int64), n_d),
        "arm": np.repeat(result.arm_labels.astype(np.str_), n_d),
        "day": np.tile(day, n_p),
        "phase": np.tile(phase_of_day(result), n_p),
        "nrs": np.where(result.observed, result.nrs.astype(np.float64), np.nan).ravel(),
        "observed": result.observed.astype(np.bool_).ravel(),
        "current_mA": result.current_mA.astype(np.float64).ravel(),
    }
    for k, name in enumerate(result.side_effects):
        cols[f"ae_{name}"] = result.ae_reported[:, :, k].astype(np.bool_).ravel()
    cols["dropped_out"] = in_or_after.ravel()
    cols["eligible"] = np.repeat(result.eligible.astype(np.bool_), n_d)
    cols.update(attack_columns(result))
    return cols


def attack_columns(result: TrialResult) -> Columns:
    """The attack diary's columns of :func:`tidy_columns` (:data:`ATTACK_COLUMNS`), one row per
    patient-day; empty for a condition without an attack diary."""
    a = result.attacks
    if a is None:
        return {}
    severity = np.asarray(a.peak_severity, dtype=np.float64)
    treated = np.zeros((result.n_patients, result.n_days), dtype=np.int64)
    if result.treated is not None:
        rows, slots = np.nonzero(result.treated.day >= 0)
        np.add.at(treated, (rows, result.treated.day[rows, slots]), 1)
    return {
        "attacks": np.asarray(a.attacks, dtype=np.int64).ravel(),
        "headache_day": np.asarray(a.headache_day, dtype=np.bool_).ravel(),
        "migraine_day": np.asarray(a.migraine_day, dtype=np.bool_).ravel(),
        "peak_severity": np.where(severity >= 0, severity, np.nan).ravel(),
        "attack_duration_min": np.asarray(a.duration_min, dtype=np.float64).ravel(),
        "rescue": np.asarray(a.rescue, dtype=np.bool_).ravel(),
        "headache_observed": np.asarray(a.observed, dtype=np.bool_).ravel(),
        "treated_attacks": treated.ravel(),
    }


def per_patient_columns(result: TrialResult) -> Columns:
    """One row per patient with the blinded-phase endpoints (all randomised patients).

    Columns: ``patient``, ``patient_index``, ``arm``, ``eligible``, ``baseline_NRS`` (mean of
    the baseline diary), ``end_of_blinded_NRS`` (mean of the last 4 weeks of the blinded phase,
    the window of :meth:`TrialResult.change`), ``change_NRS`` and ``change_pct`` (NaN where
    missing), ``responder30`` and ``responder50`` (IMMPACT, missing counts as non-responder),
    ``dropout_day`` (−1 for completers), ``dropout_reason`` (``adverse event``, ``lack of
    efficacy``, ``other``; empty for completers and where the result has none),
    ``final_current_mA`` (on the last day in the study)
    and ``coupling`` (θ, the nerve-interface threshold multiplier).

    Then the questionnaires at the visits (:data:`~openvns.trials.runner.VISITS`, NaN where not
    answered): ``pgic_end_of_blinded`` and ``pgic_end_of_open_label`` (1–7) and
    ``pgic_much_improved`` (≤ the PGIC MCID at the end of the blinded phase); for each of
    ``bpi_interference``, ``fiqr`` (fibromyalgia, else NaN) and ``sleep``: ``<name>_baseline``,
    ``<name>_end_of_blinded``, ``<name>_end_of_open_label``, ``<name>_change`` (end of blinded
    minus baseline) and ``<name>_responder`` (improved by at least the outcome's MCID; missing
    counts as not improved).

    Headache conditions add, for each measure of
    :func:`openvns.trials.headache.headache_measures` (``attacks``; ``migraine_days`` and
    ``headache_days``): ``<measure>_baseline`` and ``<measure>_endpoint`` (rates over the
    prevention endpoint's windows, attacks per week or days per 28 days, NaN with too few
    observed days), ``<measure>_change`` and ``<measure>_change_pct``.
    """
    d = result.design
    n = result.n_patients
    nan = np.full(n, np.nan)
    base, end, change, pct = nan.copy(), nan.copy(), nan.copy(), nan.copy()
    if d.baseline_days > 0:
        c = change_from_baseline(
            result.nrs.astype(np.float64),
            result.observed,
            slice(0, d.baseline_days),
            endpoint_window(d.baseline_days + d.blinded_days, d.baseline_days),
        )
        base, end, change, pct = c.baseline_NRS, c.endpoint_NRS, c.change_NRS, c.change_pct
    cols: Columns = {
        "patient": np.asarray(result.patient_names, dtype=np.str_),
        "patient_index": result.patient_index.astype(np.int64),
        "arm": result.arm_labels.astype(np.str_),
        "eligible": result.eligible.astype(np.bool_),
        "baseline_NRS": base,
        "end_of_blinded_NRS": end,
        "change_NRS": change,
        "change_pct": pct,
        "responder30": responders(pct, 30.0).responder,
        "responder50": responders(pct, 50.0).responder,
        "dropout_day": result.dropout_day.astype(np.int64),
        "dropout_reason": _reason_labels(result),
        "final_current_mA": final_current_mA(result),
        "coupling": result.coupling.astype(np.float64),
    }
    pgic = result.visit("pgic", "blinded")
    cols["pgic_end_of_blinded"] = pgic
    cols["pgic_end_of_open_label"] = result.visit("pgic", "open_label")
    cols["pgic_much_improved"] = pgic_much_improved(pgic).improved
    for name, endpoint in (
        ("bpi_interference", bpi_interference_change),
        ("fiqr", fiqr_change),
        ("sleep", sleep_change),
    ):
        base_v = result.visit(name, "baseline")
        ch = endpoint(base_v, result.visit(name, "blinded"))
        cols[f"{name}_baseline"] = base_v
        cols[f"{name}_end_of_blinded"] = ch.endpoint
        cols[f"{name}_end_of_open_label"] = result.visit(name, "open_label")
        cols[f"{name}_change"] = ch.change
        cols[f"{name}_responder"] = ch.responders.improved
    if result.attacks is not None and d.baseline_days > 0:
        from openvns.trials.headache import headache_measures, prevention_change

        for m in headache_measures(result.condition):
            out = {k: nan.copy() for k in ("baseline", "endpoint", "change", "change_pct")}
            for a, arm in enumerate(result.arm_names):
                sel = result.arm == a
                fc = prevention_change(result, arm, measure=m, eligible_only=False)
                out["baseline"][sel] = fc.baseline.rate
                out["endpoint"][sel] = fc.endpoint.rate
                out["change"][sel] = fc.change
                out["change_pct"][sel] = fc.change_pct
            cols.update({f"{m}_{k}": v for k, v in out.items()})
    return cols


def _table(columns: Columns) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    arrays = {}
    for name, col in columns.items():
        if col.dtype.kind == "f":
            arrays[name] = pa.array(col, type=pa.float64(), mask=np.isnan(col))
        elif col.dtype.kind == "U":
            arrays[name] = pa.array(col.tolist(), type=pa.string())
        else:
            arrays[name] = pa.array(col)
    return pa.table(arrays)


def write_csv(result: TrialResult, path: str | Path) -> Path:
    """Write :func:`tidy_columns` as CSV (header row; empty field for a missing NRS) atomically.

    Returns
    -------
    Path
        The file written.
    """
    import pyarrow.csv as pacsv  # type: ignore[import-untyped, unused-ignore]

    table = _table(tidy_columns(result))
    out = atomic_write(path, lambda tmp: pacsv.write_csv(table, str(tmp)))
    log.info("wrote %d rows to %s", table.num_rows, out)
    return out


def write_parquet(result: TrialResult, path: str | Path) -> Path:
    """Write :func:`tidy_columns` as Parquet (nulls for a missing NRS) atomically.

    The file's key-value metadata records the trial's ``config_hash``, ``root_seed``,
    ``version`` and ``rng_scheme``.

    Returns
    -------
    Path
        The file written.
    """
    import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

    table = _table(tidy_columns(result))
    meta = {
        "openvns.config_hash": result.config_hash,
        "openvns.root_seed": str(result.root_seed),
        "openvns.version": result.version,
        "openvns.rng_scheme": result.rng_scheme,
    }
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    out = atomic_write(path, lambda tmp: pq.write_table(table, str(tmp)))
    log.info("wrote %d rows to %s", table.num_rows, out)
    return out


def export_tidy(result: TrialResult, path: str | Path) -> Path:
    """Write the tidy table to ``path``, the format chosen by its suffix (.csv or .parquet).

    Raises
    ------
    ValidationError
        When the suffix is neither ``.csv`` nor ``.parquet``.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return write_csv(result, path)
    if suffix == ".parquet":
        return write_parquet(result, path)
    raise ValidationError("path", str(path), "a file name ending in " + " or ".join(SUFFIXES))


def read_tidy(path: str | Path) -> Columns:
    """Read a file of :func:`export_tidy` back into numpy columns (nulls become NaN).

    Integer columns come back as int64, flags as bool, NRS and currents as float64 and text as
    numpy strings, so the result compares equal to :func:`tidy_columns` of the same trial.
    """
    import pyarrow as pa

    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        import pyarrow.csv as pacsv

        text_columns = {k: pa.string() for k in ("patient", "arm", "phase")}
        floats = ("nrs", "current_mA", "peak_severity", "attack_duration_min")
        float_columns = {k: pa.float64() for k in floats}
        options = pacsv.ConvertOptions(column_types={**text_columns, **float_columns})
        table = pacsv.read_csv(str(path), convert_options=options)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(str(path))
    else:
        raise ValidationError("path", str(path), "a file name ending in " + " or ".join(SUFFIXES))
    out: Columns = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_floating(col.type) or pa.types.is_null(col.type):
            out[name] = np.asarray(col.cast(pa.float64()).to_numpy(zero_copy_only=False))
        elif pa.types.is_integer(col.type):
            out[name] = np.asarray(col.to_numpy(), dtype=np.int64)
        elif pa.types.is_boolean(col.type):
            out[name] = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.bool_)
        else:
            out[name] = np.asarray(col.to_pylist(), dtype=np.str_)
    return out
