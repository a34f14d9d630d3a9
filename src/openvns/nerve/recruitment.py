"""Recruitment tables: the fraction of each functional group that fires, against current.

A :class:`RecruitmentTable` holds, for a representative fibre sample of a nerve
(:func:`openvns.nerve.population.sample_population`) under an electrode, the activation
threshold of every fibre at each pulse width of the catalogue (130, 250, 500, 750, 1000 µs by
default). ``fraction(group, current_mA, pulse_width_us)`` is the weighted share of the group
whose threshold is at most the current: a monotone step function of current. Between catalogue
pulse widths each fibre's threshold is interpolated linearly in log(threshold) against
log(pulse width) (strength–duration curves are smooth and monotone there).

**Coupling.** A per-patient factor ``c`` multiplies every threshold (so ``fraction(I, c)`` equals
``fraction(I / c, 1)``): in a linear volume conductor the potential of every fibre scales with
the electrode's coupling to the nerve, so a uniform change (scar of lower conductivity between
cuff and nerve, a gap) scales all thresholds alike to first order. :func:`coupling_factor`
turns a gap between cuff and nerve into ``c = fibrosis * ((d_ref + gap) / d_ref) ** n`` with the
reference distance and exponent of ``data/recruitment.yaml`` (assumptions: ``d_ref`` 500 µm,
``n`` 1.5 between the near- and far-field laws of a point source). It does not model the change
of *which* fibres are recruited first that a strongly asymmetric gap causes.

**Building** (:func:`build_recruitment_table`): sample the population (4096 fibres per group by
default), build the cuff field once, and get every fibre's threshold per pulse width. Default
(``method="surrogate"``, :mod:`openvns.nerve.population_thresholds`): the solver runs on a small
design sample of the same nerve only, a surrogate of log threshold from features of each fibre's
own field is fitted per fibre model and pulse width and applied to the population (docs/nerve.md,
"Building a table fast"). ``method="direct"``: the solver for every sampled fibre. The threshold
function and the fibre builder are parameters (defaults: :func:`openvns.nerve.threshold.
find_thresholds` and :func:`openvns.nerve.fibres.build_fiber`), so bookkeeping can be tested with
an analytic model.

**Cache**: ``<cache_dir>/<key>.npz`` with a ``<key>.json`` metadata file, where ``key`` is the
SHA-256 of every input (population parameters, seed and sample size, sampling scheme, method,
design sizes and surrogate settings, lead and field, fibre parameter files, waveforms, solver
settings, bins, threshold and fibre functions, package version). Files are written to temporary
names and renamed, the JSON last; on reading, the JSON must name the same key and the SHA-256 of
the ``.npz``, or the table is rebuilt.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openvns import __version__
from openvns.device.waveforms import PulseShape, WaveformParameters, biphasic
from openvns.errors import ValidationError
from openvns.files import atomic_write_bytes
from openvns.nerve import data_files
from openvns.nerve.field import AnalyticField, FieldModel, field_digest
from openvns.nerve.geometry import HelicalCuff, Nerve
from openvns.nerve.population import (
    SAMPLING_SCHEME,
    FibrePopulation,
    PopulationParameters,
    build_nerve,
    sample_population,
)
from openvns.nerve.population_thresholds import solver_thresholds, surrogate_thresholds
from openvns.nerve.surrogate import SURROGATE_SCHEME
from openvns.parameters.ranges import without_ranges

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ThresholdFn = Callable[..., Any]
FiberBuilder = Callable[..., Any]
WaveformFactory = Callable[[float], PulseShape]
Progress = Callable[[int, int], None]

#: Format of the cache files; bump when their layout changes.
CACHE_FORMAT = "openvns.recruitment/1"


def _cfg() -> dict[str, Any]:
    return data_files.load("recruitment.yaml")


def default_pulse_widths_us() -> tuple[float, ...]:
    """The catalogue pulse widths (µs) a default table covers."""
    return tuple(float(x) for x in data_files.value(_cfg()["pulse_widths_us"]))


#: The fields a helical lead's table can be built on.
FIELDS = ("fem", "analytic")


def default_field() -> str:
    """The field of a helical lead's default table (``field`` of ``data/recruitment.yaml``)."""
    value = str(data_files.value(_cfg()["field"]))
    if value not in FIELDS:
        raise ValidationError("recruitment.yaml field", value, " or ".join(FIELDS))
    return value


def default_cache_dir() -> Path:
    """``$OPENVNS_CACHE_DIR/recruitment`` or ``~/.cache/openvns/recruitment``."""
    root = os.environ.get("OPENVNS_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "openvns"
    return base / "recruitment"


def coupling_factor(gap_um: float = 0.0, fibrosis: float = 1.0) -> float:
    """Threshold multiplier for a cuff–nerve gap (µm) and a fibrosis factor (≥ 1 raises).

    ``c = fibrosis * ((d_ref + gap_um) / d_ref) ** n`` (``d_ref``, ``n`` from
    ``data/recruitment.yaml``).
    """
    for name, x, low in (("gap_um", gap_um, 0.0), ("fibrosis", fibrosis, 0.0)):
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            raise ValidationError(name, x, "a finite number")
        if x < low or (name == "fibrosis" and x == 0):
            raise ValidationError(name, x, "≥ 0 µm" if name == "gap_um" else "a factor > 0")
    c = _cfg()["coupling"]
    d_ref = float(data_files.value(c["reference_distance_um"]))
    n = float(data_files.value(c["distance_exponent"]))
    return float(fibrosis * ((d_ref + gap_um) / d_ref) ** n)


def _check_coupling(coupling: float) -> float:
    ok = isinstance(coupling, int | float) and not isinstance(coupling, bool)
    if not ok or not math.isfinite(coupling) or coupling <= 0:
        raise ValidationError("coupling", coupling, "a finite factor > 0 (1 = nominal)")
    return float(coupling)


@dataclass(frozen=True)
class RecruitmentTable:
    """Per-fibre thresholds of a fibre sample and the weighted fractions they give.

    Attributes
    ----------
    groups
        Functional group names.
    pulse_widths_us
        ``(n_pw,)`` increasing pulse widths, µs.
    thresholds_mA
        ``(n_fibres, n_pw)`` activation thresholds, mA (``inf``: not activated in the search).
    group_index
        ``(n_fibres,)`` index into ``groups``.
    weight
        ``(n_fibres,)`` fibres of the whole nerve each sampled fibre stands for.
    key
        SHA-256 of the inputs (the cache key).
    metadata
        The inputs and build information (JSON-able).
    """

    groups: tuple[str, ...]
    pulse_widths_us: FloatArray
    thresholds_mA: FloatArray
    group_index: IntArray
    weight: FloatArray
    key: str = ""
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        n = self.group_index.shape[0]
        pw = self.pulse_widths_us
        if self.thresholds_mA.shape != (n, pw.size) or self.weight.shape != (n,):
            raise ValidationError(
                "thresholds_mA",
                f"shape {self.thresholds_mA.shape}",
                f"({n}, {pw.size}) with weights ({n},)",
            )
        if pw.size < 1 or np.any(np.diff(pw) <= 0) or np.any(pw <= 0):
            raise ValidationError("pulse_widths_us", pw.tolist(), "increasing values > 0")
        if n and (self.group_index.min() < 0 or self.group_index.max() >= len(self.groups)):
            raise ValidationError("group_index", "out of range", f"0 … {len(self.groups) - 1}")
        if np.any(np.isnan(self.thresholds_mA)) or np.any(self.thresholds_mA <= 0):
            raise ValidationError("thresholds_mA", "NaN or ≤ 0 values", "thresholds > 0 (or inf)")

    def _group(self, group: str) -> IntArray:
        if group not in self.groups:
            raise ValidationError("group", group, "one of " + ", ".join(self.groups))
        return np.flatnonzero(self.group_index == self.groups.index(group)).astype(np.int64)

    def thresholds_at(self, pulse_width_us: float) -> FloatArray:
        """Every fibre's threshold (mA) at ``pulse_width_us``, interpolated log–log."""
        pw = self.pulse_widths_us
        x = float(pulse_width_us) if isinstance(pulse_width_us, int | float) else math.nan
        if not math.isfinite(x) or x < pw[0] * (1 - 1e-9) or x > pw[-1] * (1 + 1e-9):
            allowed = f"{pw[0]:g}–{pw[-1]:g} µs (the table's pulse widths)"
            raise ValidationError("pulse_width_us", pulse_width_us, allowed)
        hit = np.flatnonzero(np.isclose(pw, x, rtol=1e-9))
        if hit.size:
            return np.array(self.thresholds_mA[:, int(hit[0])])
        j = int(np.searchsorted(pw, x))
        t = (math.log(x) - math.log(pw[j - 1])) / (math.log(pw[j]) - math.log(pw[j - 1]))
        lo, hi = self.thresholds_mA[:, j - 1], self.thresholds_mA[:, j]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.exp((1 - t) * np.log(lo) + t * np.log(hi))
        out[~np.isfinite(lo) | ~np.isfinite(hi)] = np.inf
        return np.asarray(out, dtype=np.float64)

    def fraction(
        self,
        group: str,
        current_mA: float | FloatArray,
        pulse_width_us: float,
        coupling: float = 1.0,
    ) -> float | FloatArray:
        """Weighted fraction of ``group`` recruited (threshold × coupling ≤ current).

        ``current_mA`` may be a scalar (returns a float) or an array (returns an array).
        """
        idx = self._group(group)
        cur = np.asarray(current_mA, dtype=np.float64)
        if not np.all(np.isfinite(cur)) or np.any(cur < 0):
            raise ValidationError("current_mA", current_mA, "finite currents ≥ 0 mA")
        thr = self.thresholds_at(pulse_width_us)[idx] * _check_coupling(coupling)
        order = np.argsort(thr, kind="stable")
        cum = np.concatenate(([0.0], np.cumsum(self.weight[idx][order])))
        out = cum[np.searchsorted(thr[order], cur, side="right")] / cum[-1]
        return float(out) if out.ndim == 0 else np.asarray(out, dtype=np.float64)

    def i50_mA(self, group: str, pulse_width_us: float, coupling: float = 1.0) -> float:
        """The group's I50 (mA): the current recruiting half its fibres (by weight), i.e. the
        weighted median threshold × ``coupling`` (``inf`` if half are never recruited)."""
        idx = self._group(group)
        thr = self.thresholds_at(pulse_width_us)[idx] * _check_coupling(coupling)
        order = np.argsort(thr, kind="stable")
        cum = np.cumsum(self.weight[idx][order])
        return float(thr[order][np.searchsorted(cum, 0.5 * cum[-1])])

    def curves(
        self, currents_mA: FloatArray, pulse_width_us: float, coupling: float = 1.0
    ) -> dict[str, FloatArray]:
        """Recruitment curve of every group on ``currents_mA``."""
        return {
            g: np.asarray(self.fraction(g, currents_mA, pulse_width_us, coupling))
            for g in self.groups
        }


# ------------------------------------------------------------------------------------ cache
def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


#: Fields of a cache JSON that describe the cached copy itself, not the table's inputs.
_CACHE_FIELDS = ("format", "key", "npz_sha256")


def save_table(table: RecruitmentTable, cache_dir: Path) -> Path:
    """Write ``table`` to ``cache_dir/<key>.npz`` + ``.json`` atomically; returns the npz path."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    import io

    buf = io.BytesIO()
    np.savez(
        buf,
        pulse_widths_us=table.pulse_widths_us,
        thresholds_mA=table.thresholds_mA,
        group_index=table.group_index,
        weight=table.weight,
        groups=np.array(table.groups, dtype=np.str_),
    )
    data = buf.getvalue()
    npz = cache_dir / f"{table.key}.npz"
    atomic_write_bytes(npz, data)
    # the table's own metadata first: what it carries (a prebuilt table's metadata names the
    # key it was shipped under) must never overwrite the key and checksum of this copy
    meta = {
        **table.metadata,
        "format": CACHE_FORMAT,
        "key": table.key,
        "npz_sha256": hashlib.sha256(data).hexdigest(),
    }
    atomic_write_bytes(cache_dir / f"{table.key}.json", _canonical(meta).encode("utf-8"))
    return npz


def load_table(key: str, cache_dir: Path) -> RecruitmentTable | None:
    """The cached table of ``key``, or ``None`` if absent or not intact (never half-read)."""
    meta_path, npz_path = cache_dir / f"{key}.json", cache_dir / f"{key}.npz"
    if not meta_path.exists() or not npz_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        data = npz_path.read_bytes()
        if meta.get("format") != CACHE_FORMAT or meta.get("key") != key:
            raise ValueError("metadata does not match the key")
        if hashlib.sha256(data).hexdigest() != meta.get("npz_sha256"):
            raise ValueError("checksum mismatch")
        import io

        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            table = RecruitmentTable(
                groups=tuple(str(g) for g in z["groups"]),
                pulse_widths_us=np.asarray(z["pulse_widths_us"], dtype=np.float64),
                thresholds_mA=np.asarray(z["thresholds_mA"], dtype=np.float64),
                group_index=np.asarray(z["group_index"], dtype=np.int64),
                weight=np.asarray(z["weight"], dtype=np.float64),
                key=key,
                metadata={k: v for k, v in meta.items() if k not in _CACHE_FIELDS},
            )
    except Exception as exc:  # any damage means: rebuild
        log.warning("recruitment cache %s is not usable (%s); rebuilding", npz_path, exc)
        return None
    return table


# -------------------------------------------------------------------------------- prebuilt
#: Package folder of tables shipped prebuilt (``<name>.npz`` + ``<name>.json``, cache format),
#: written by ``tools/build_prebuilt_tables.py``.
PREBUILT_DIR = "prebuilt"


def _without_version(inputs: dict[str, Any]) -> str:
    plain = json.loads(_canonical(inputs))
    plain.pop("package_version", None)
    return _canonical(plain)


def prebuilt_table(inputs: dict[str, Any], key: str) -> RecruitmentTable | None:
    """A shipped table built from exactly ``inputs`` (the package version aside), or ``None``.

    The shipped JSON holds the inputs it was built from; a table is used only if they equal the
    current inputs (same population, lead, field, fibre parameter files, solver settings, …), so
    a change to any input makes the builder run instead. The table is returned under ``key``.
    """
    folder = resources.files("openvns.nerve").joinpath("data", PREBUILT_DIR)
    if not folder.is_dir():
        return None
    wanted = _without_version(inputs)
    for meta_file in sorted(folder.iterdir(), key=lambda f: f.name):
        if not meta_file.name.endswith(".json"):
            continue
        meta = json.loads(meta_file.read_text("utf-8"))
        if _without_version(meta.get("inputs", {})) != wanted:
            continue
        npz_file = folder.joinpath(meta_file.name[: -len(".json")] + ".npz")
        with resources.as_file(npz_file) as npz, tempfile.TemporaryDirectory() as tmp:
            staged = Path(tmp)
            (staged / f"{meta['key']}.npz").write_bytes(npz.read_bytes())
            (staged / f"{meta['key']}.json").write_text(meta_file.read_text("utf-8"))
            table = load_table(str(meta["key"]), staged)
        if table is None:
            return None
        log.info("recruitment table %s: prebuilt %s", key[:12], meta_file.name)
        metadata = {**table.metadata, "inputs": inputs, "prebuilt": meta_file.name}
        return dataclasses.replace(table, key=key, metadata=metadata)
    return None


# ---------------------------------------------------------------------------------- builder
def _default_threshold_fn() -> ThresholdFn:
    from openvns.nerve.threshold import find_thresholds

    return find_thresholds


def _default_fiber_builder() -> FiberBuilder:
    from openvns.nerve.fibres import build_fiber

    return build_fiber


def default_waveform(pulse_width_us: float) -> PulseShape:
    """The implanted generators' pulse: cathodic-first biphasic with the default recharge."""
    recharge = WaveformParameters.default().recharge["implanted"]
    return biphasic(pulse_width_us, recharge=recharge)


def _fibre_data_digests() -> dict[str, str]:
    """SHA-256 of every fibre-model parameter file (``openvns/nerve/fibres/data``), ranges left
    out (:func:`openvns.nerve.data_files.model_text`)."""
    out: dict[str, str] = {}
    try:
        root = resources.files("openvns.nerve.fibres").joinpath("data")
        for entry in sorted(root.iterdir(), key=lambda e: e.name):
            if entry.is_file():
                out[entry.name] = data_files.text_digest(entry.read_bytes().decode("utf-8"))
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    return out


def _name(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _design_population(
    params: PopulationParameters, seed: int, n_design: dict[str, int], nerve: Nerve | None = None
) -> FibrePopulation:
    """The design sample: ``n_design[model]`` fibres per group of each model, same nerve."""
    parts = []
    for model, k in sorted(n_design.items()):
        s = sample_population(params, n_per_group=k, seed=seed, nerve=nerve)
        parts.append((s, np.flatnonzero(s.model == model)))
    first = parts[0][0]
    cat: dict[str, Any] = {
        name: np.concatenate([getattr(s, name)[i] for s, i in parts])
        for name in ("x_um", "y_um", "fascicle", "diameter_um", "model", "group", "afferent",
                     "weight", "z_offset_frac")
    }  # fmt: skip
    return dataclasses.replace(first, **cat)


def table_inputs(
    lead: str,
    params: PopulationParameters,
    seed: int,
    n_per_group: int,
    pulse_widths_us: Sequence[float],
    waveform: WaveformFactory,
    threshold_fn: ThresholdFn,
    fiber_builder: FiberBuilder,
    fld: FieldModel,
    method: str = "surrogate",
    n_design: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Every input of a table, JSON-able: what its cache key hashes (plausible ranges of the
    settings are not inputs: they document the values)."""
    cfg = without_ranges(_cfg())
    how: dict[str, Any] = {"method": method}
    if method == "surrogate":
        how.update(design_per_group=n_design, surrogate=cfg["surrogate"], scheme=SURROGATE_SCHEME)
    return {
        "thresholds": how,
        "format": CACHE_FORMAT,
        "package_version": __version__,
        "population": {"params": params.model_dump(), "digest": params.digest()},
        "seed": seed,
        "n_per_group": n_per_group,
        "sampling": SAMPLING_SCHEME,
        "lead": lead,
        "field": {"key": fld.key(), "digest": field_digest(fld)},
        "pulse_widths_us": [float(x) for x in pulse_widths_us],
        "waveforms": [repr(waveform(float(pw))) for pw in pulse_widths_us],
        "solver": cfg["solver"],
        "fibre": cfg["fibre"],
        "diameter_bin_um": cfg["diameter_bin_um"],
        "fibre_parameter_files": _fibre_data_digests(),
        "threshold_fn": _name(threshold_fn),
        "fiber_builder": _name(fiber_builder),
        "nerve_data": {n: data_files.digest(n) for n in ("cuff.yaml", "anatomy.yaml")},
    }


def build_recruitment_table(
    lead: str = "2mm",
    *,
    params: PopulationParameters | None = None,
    seed: int | None = None,
    n_per_group: int | None = None,
    pulse_widths_us: Sequence[float] | None = None,
    waveform: WaveformFactory = default_waveform,
    threshold_fn: ThresholdFn | None = None,
    fiber_builder: FiberBuilder | None = None,
    cache_dir: Path | str | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
    method: str | None = None,
    design_per_group: dict[str, int] | None = None,
    field: str | None = None,
    nerve: Nerve | None = None,
    fem_stage: Callable[[str, int, int], None] | None = None,
) -> RecruitmentTable:
    """Build (or read from cache) the recruitment table of a nerve under a catalogue lead.

    Parameters
    ----------
    lead
        Helical lead id or alias (``"2mm"``, ``"3mm"``, ``"304-20"``), or a skin electrode of a
        non-invasive device (``"gammacore-contacts"``, ``"ear-cymba-conchae"``, ``"ear-tragus"``,
        ``"ear-lobe"``), whose table :func:`openvns.nerve.transcutaneous_tables.
        build_transcutaneous_table` builds (``params``, ``waveform`` and ``method`` are then
        the device's own and must be left at their defaults).
    params, seed, n_per_group
        Population (default: the human left cervical vagus, seed and sample size of
        ``data/recruitment.yaml``).
    pulse_widths_us
        Pulse widths to tabulate (default: the catalogue's 130–1000 µs).
    waveform
        Pulse shape per pulse width (default: the implanted generators' biphasic pulse).
    threshold_fn, fiber_builder
        ``find_thresholds``-like and ``build_fiber``-like callables (defaults: the package's).
    cache_dir, use_cache
        Where tables are cached (default :func:`default_cache_dir`) and whether to use it (and
        the prebuilt tables shipped with the package, :func:`prebuilt_table`).
    progress
        Called as ``progress(done, total)`` while a table is built (never for a cached one):
        first ``(0, total)``, then after each batch of solver thresholds (and, for the
        surrogate, each fibre model's surrogates), last ``(total, total)``.
    method
        ``"surrogate"`` (default, ``data/recruitment.yaml``): solver thresholds on a design
        sample of ``design_per_group`` fibres per group (per fibre model), a surrogate per model
        and pulse width, applied to the ``n_per_group`` population; ``"direct"``: solver
        thresholds for every sampled fibre.
    design_per_group
        Design fibres per group, by fibre model (default from ``data/recruitment.yaml``).
    field
        ``"fem"``: the cuff on the nerve in its tissues by finite elements
        (:mod:`openvns.nerve.fem.cuff_model`, ``data/fem.yaml``), meshed and solved once for
        the sampled nerve when the table is built; ``"analytic"``: the contacts' point sources
        in the homogeneous endoneurium with the wall's image (:meth:`AnalyticField.cuff`).
        Default: ``field`` of ``data/recruitment.yaml`` for a helical lead; a skin electrode's
        table has its own field (``"analytic"`` or the default only).
    nerve
        A cross-section to use instead of the population's layout for ``seed`` (an imported
        segmented section, :func:`openvns.nerve.segmented.load_section`); its digest joins the
        table's inputs. A helical lead only.
    fem_stage
        Called as ``fem_stage(name, done, total)`` at each stage of the finite-element field's
        mesh and solve (``"meshing"``, ``"assembling"``, ``"solving cathode"``, ``"solving
        anode"``, ``"done"``; :func:`openvns.nerve.fem.cuff_model.cuff_field`), which runs at
        the first solver batch of a table built on ``field="fem"`` (never for a cached one).
    """
    from openvns.nerve.transcutaneous import is_transcutaneous

    if field is not None and field not in FIELDS:
        raise ValidationError("field", field, " or ".join(repr(f) for f in FIELDS))

    if is_transcutaneous(lead):
        from openvns.nerve.transcutaneous_tables import build_transcutaneous_table

        if field not in (None, "analytic"):
            raise ValidationError("field", field, "'analytic' for a skin electrode's table")
        if nerve is not None:
            raise ValidationError("nerve", "a cross-section", "none for a skin electrode's table")
        own = params is None and waveform is default_waveform and method in (None, "surrogate")
        if not own:
            raise ValidationError(
                "lead", lead, "a helical lead when params, waveform or method are given"
            )
        return build_transcutaneous_table(
            lead, seed=seed, n_per_group=n_per_group, pulse_widths_us=pulse_widths_us,
            threshold_fn=threshold_fn, fiber_builder=fiber_builder, cache_dir=cache_dir,
            use_cache=use_cache, progress=progress, design_per_group=design_per_group,
        )  # fmt: skip
    cfg = _cfg()
    field = default_field() if field is None else field
    p = params or PopulationParameters.default()
    seed = int(data_files.value(cfg["seed"])) if seed is None else seed
    n = int(data_files.value(cfg["n_per_group"])) if n_per_group is None else n_per_group
    pws = tuple(float(x) for x in (pulse_widths_us or default_pulse_widths_us()))
    if not pws or any(not (math.isfinite(x) and x > 0) for x in pws):
        raise ValidationError("pulse_widths_us", pws, "pulse widths > 0 µs")
    pws = tuple(sorted(set(pws)))
    thr_fn = threshold_fn or _default_threshold_fn()
    builder = fiber_builder or _default_fiber_builder()
    cuff = HelicalCuff.from_lead(lead)
    fld: Any = AnalyticField.cuff(cuff)
    if field == "fem":
        from openvns.nerve.fem.cuff_model import LazyFEMField, Tissues

        fld = LazyFEMField(build_nerve(p, seed) if nerve is None else nerve, cuff,
                           Tissues.default(), stage=fem_stage)  # fmt: skip
    how = str(data_files.value(cfg["method"])) if method is None else method
    if how not in ("surrogate", "direct"):
        raise ValidationError("method", method, "'surrogate' or 'direct'")
    n_design = {m: int(data_files.value(v)) for m, v in cfg["design_per_group"].items()}
    n_design.update(design_per_group or {})
    for m, k in n_design.items():
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValidationError(f"design_per_group[{m}]", k, "an integer ≥ 1")
    inputs = table_inputs(lead, p, seed, n, pws, waveform, thr_fn, builder, fld, how, n_design)
    if nerve is not None:
        inputs["nerve"] = nerve.digest()
    key = hashlib.sha256(_canonical(inputs).encode("utf-8")).hexdigest()
    where = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if use_cache:
        cached = load_table(key, where)
        if cached is not None:
            log.info("recruitment table %s read from %s", key[:12], where)
            return cached
        shipped = prebuilt_table(inputs, key)
        if shipped is not None:
            save_table(shipped, where)
            return shipped

    t0 = time.perf_counter()
    pop = sample_population(p, n_per_group=n, seed=seed, nerve=nerve)
    cuff.check_nerve_fits(pop.nerve)
    report: dict[str, Any] = {}
    if how == "direct":
        members = np.arange(len(pop), dtype=np.int64)
        thresholds = solver_thresholds(
            pop, members, pws, waveform, thr_fn, builder, fld, cfg, progress
        )[0]
    else:
        design = _design_population(p, seed, n_design, nerve)
        cuff.check_nerve_fits(design.nerve)
        thresholds, report = surrogate_thresholds(
            design, pop, pws, waveform, thr_fn, builder, fld, cfg, progress
        )
    build_s = time.perf_counter() - t0
    group_index = np.array([pop.groups.index(g) for g in pop.group], dtype=np.int64)
    table = RecruitmentTable(
        groups=pop.groups,
        pulse_widths_us=np.array(pws),
        thresholds_mA=thresholds,
        group_index=group_index,
        weight=pop.weight,
        key=key,
        metadata={"inputs": inputs, "build_seconds": build_s, "surrogate": report},
    )
    log.info("recruitment table %s built in %.1f s", key[:12], build_s)
    if use_cache:
        save_table(table, where)
    return table
