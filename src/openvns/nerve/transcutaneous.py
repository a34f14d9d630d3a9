"""Non-invasive devices: the tissue, electrodes and fibres under a skin electrode.

Four leads (``data/transcutaneous.yaml``): ``"gammacore-contacts"`` (two discs on the neck over
the carotid sheath, the cervical vagus 36.2 mm deep), ``"ear-cymba-conchae"``, ``"ear-tragus"``
(alias ``"ear-clip"``) and ``"ear-lobe"`` (the usual sham). For each, :func:`lead_geometry`
gives the layered tissue (:class:`~openvns.nerve.layered.LayeredMedium`), the bipolar surface
electrode, the fibre groups and the waveform; :func:`sample_site_population` draws a
representative, reproducible fibre sample:

* **vagal groups** (neck only): the human cervical vagus of
  :func:`openvns.nerve.population.sample_population`, its centre moved to the published depth;
* **skin groups** (``skin_Abeta``, ``skin_Adelta``, ``skin_C``) and **muscle groups**
  (``platysma_motor``, ``scm_motor``): fibres parallel to the skin in a slab under the cathode's
  footprint (``|x| ≤`` its radius), depth and diameter from the data file, placed by a scrambled
  Sobol sequence per group (``seed_sequence(seed, "transcutaneous", site, group)``).

Fibres of a table carry weight 1: the *fraction* of a group recruited does not depend on how many
fibres it has. Counts (fibres crossing under the footprint, from the innervation density) enter
only :func:`physiology_map` and :func:`sensory_threshold_mA`, so a count can change without a
table rebuild.

:func:`physiology_map` says how the table's anatomical groups feed the physiology's groups
(``openvns.physiology.drive.GROUPS``, by name). Vagal groups of the physiology are fractions of
the *cervical* vagus's group, and the NTS drive is proportional to how many vagal afferents fire,
so ear groups enter with the weight ``vagal share × N_site / N_cervical`` (e.g. ``A_afferent =
1.0 × 19.6 / 2289 × frac(skin_Abeta)`` at the cymba conchae); ``cutaneous_Abeta`` and
``cutaneous_Adelta`` are the fractions of all skin fibres of the class under the electrode,
vagal or not; ``muscle_motor`` is the share-weighted fraction of the neck's motor axons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import qmc  # type: ignore[import-untyped]

from openvns.device.waveforms import PulseShape, WaveformParameters, biphasic, sine_burst
from openvns.errors import ValidationError
from openvns.nerve import data_files
from openvns.nerve.layered import LayeredField, LayeredMedium, SurfaceContact, SurfaceElectrode
from openvns.nerve.population import DiameterDistribution, PopulationParameters, sample_population
from openvns.random import seed_sequence

FloatArray = NDArray[np.float64]

DATA_FILE = "transcutaneous.yaml"
#: Identifies the site sampling scheme in cache keys; bump when it changes.
SITE_SAMPLING_SCHEME = "slab-sobol4-scrambled/1"
#: Vagal groups of the cervical population (the physiology's names).
VAGAL_GROUPS = (
    "laryngeal_motor", "cardiac_B", "A_afferent", "Adelta_afferent", "C_afferent", "C_efferent",
)  # fmt: skip
#: Skin class of a table group -> the physiology's vagal afferent group it stands in for.
_VAGAL_OF_CLASS = {"Abeta": "A_afferent", "Adelta": "Adelta_afferent", "C": "C_afferent"}
#: Skin class -> the physiology's cutaneous group (no cutaneous C group).
_CUTANEOUS_OF_CLASS = {"Abeta": "cutaneous_Abeta", "Adelta": "cutaneous_Adelta"}


def _cfg() -> dict[str, Any]:
    return data_files.load(DATA_FILE)


def _v(entry: Any) -> Any:
    return data_files.value(entry)


def transcutaneous_leads() -> tuple[str, ...]:
    """The lead ids with a transcutaneous model."""
    return tuple(_cfg()["leads"])


def canonical_lead(lead: str) -> str:
    """``lead`` itself or the lead an alias (``"ear-clip"``) stands for; unknown: an error."""
    cfg = _cfg()
    name = cfg["aliases"].get(lead, lead) if isinstance(lead, str) else lead
    if name not in cfg["leads"]:
        allowed = "one of " + ", ".join([*cfg["leads"], *cfg["aliases"]])
        raise ValidationError("lead", lead, allowed)
    return str(name)


def is_transcutaneous(lead: str) -> bool:
    """Whether ``lead`` (or an alias of it) has a transcutaneous model."""
    cfg = _cfg()
    return isinstance(lead, str) and (lead in cfg["leads"] or lead in cfg["aliases"])


# ---------------------------------------------------------------------------------- geometry
@dataclass(frozen=True)
class SlabGroup:
    """Fibres parallel to the skin in a slab under the cathode.

    Attributes
    ----------
    name, band
        Table group name and the surrogate band it is fitted in (``"skin"``, ``"muscle"``).
    model
        Fibre model (``"MRG"``, ``"PENA"``, ``"C"``).
    diameter
        Diameter distribution (µm).
    depth_um, half_width_um
        Depth range (µm below the skin) and lateral half-width (µm) of the slab.
    """

    name: str
    band: str
    model: str
    diameter: DiameterDistribution
    depth_um: tuple[float, float]
    half_width_um: float

    def key(self) -> dict[str, Any]:
        return {"name": self.name, "band": self.band, "model": self.model,
                "diameter_um": self.diameter.model_dump(), "depth_um": list(self.depth_um),
                "half_width_um": self.half_width_um}  # fmt: skip


@dataclass(frozen=True)
class LeadGeometry:
    """Everything about a transcutaneous lead that its recruitment table depends on.

    Attributes
    ----------
    lead, site
        Canonical lead id and its site (``"neck"``, ``"cymba"``, ``"tragus"``, ``"lobe"``).
    medium, electrode
        The layered tissue and the bipolar pair on it.
    waveform_kind
        ``"burst"`` (gammaCore's sine burst) or ``"biphasic"``.
    pulse_widths_us
        Pulse widths the table covers (the burst's length for gammaCore).
    fibre_length_um
        Least length of the myelinated fibres the solver runs (µm; at least 101 nodes).
    slabs
        Skin and muscle groups.
    vagus_depth_um, vagus_lateral_um
        Centre of the cervical vagus (neck only; ``None`` elsewhere).
    """

    lead: str
    site: str
    medium: LayeredMedium
    electrode: SurfaceElectrode
    waveform_kind: str
    pulse_widths_us: tuple[float, ...]
    fibre_length_um: float
    slabs: tuple[SlabGroup, ...]
    vagus_depth_um: float | None
    vagus_lateral_um: float | None

    @property
    def groups(self) -> tuple[str, ...]:
        """Table groups in order: the vagal groups (neck), then the slabs."""
        vagal = VAGAL_GROUPS if self.vagus_depth_um is not None else ()
        return (*vagal, *(s.name for s in self.slabs))

    def depth_range_um(self) -> tuple[float, float]:
        """Shallowest and deepest fibre depth (µm)."""
        lo = min(s.depth_um[0] for s in self.slabs)
        hi = max(s.depth_um[1] for s in self.slabs)
        if self.vagus_depth_um is not None:
            r = PopulationParameters.default().nerve_diameter_um / 2.0
            lo, hi = min(lo, self.vagus_depth_um - r), max(hi, self.vagus_depth_um + r)
        return lo, hi

    def field(self) -> LayeredField:
        """The electrode's field over the fibres' depth range (a FieldModel; y = depth)."""
        return _field(self)

    def waveform(self, pulse_width_us: float) -> PulseShape:
        """The pulse per mA: gammaCore's sine burst (catalogue) or a taVNS biphasic pulse."""
        if self.waveform_kind == "burst":
            from openvns.device.catalogue import default_catalogue

            gen = next(g for g in default_catalogue().generators.values()
                       if g.burst is not None and self.lead in g.leads)  # fmt: skip
            assert gen.burst is not None
            return sine_burst(float(gen.burst.carrier_frequency_Hz.value),
                              int(gen.burst.pulses_per_burst.value))  # fmt: skip
        recharge = WaveformParameters.default().recharge["transcutaneous_auricular"]
        return biphasic(pulse_width_us, recharge=recharge)

    def key(self) -> dict[str, Any]:
        return {
            "lead": self.lead,
            "site": self.site,
            "medium": self.medium.key(),
            "electrode": self.electrode.key(),
            "waveform_kind": self.waveform_kind,
            "fibre_length_um": self.fibre_length_um,
            "slabs": [s.key() for s in self.slabs],
            "vagus_depth_um": self.vagus_depth_um,
            "vagus_lateral_um": self.vagus_lateral_um,
        }


@lru_cache(maxsize=8)
def _field(geom: LeadGeometry) -> LayeredField:
    rho_max = float(_v(_cfg()["table"]["rho_max_um"]))
    return LayeredField(geom.electrode, geom.medium, geom.depth_range_um(), rho_max)


def _diameter(entry: dict[str, Any]) -> DiameterDistribution:
    return DiameterDistribution(**{k: entry[k] for k in ("mean", "sd", "min", "max")})


def site_medium(site: str) -> LayeredMedium:
    """The layers of a site (``data/transcutaneous.yaml``: ``sites``)."""
    cfg = _cfg()
    if site not in cfg["sites"]:
        raise ValidationError("site", site, "one of " + ", ".join(cfg["sites"]))
    s = cfg["sites"][site]
    sigma = cfg["conductivity_S_per_m"]
    tissue_of = s.get("tissue_of", {})
    layers = list(s["layers"])
    thick = tuple(float(_v(s["thickness_um"][name])) for name in layers)
    tissues = [tissue_of.get(name, name) for name in layers] + [s["half_space"]]
    sig = tuple(float(_v(sigma[t])) for t in tissues)
    return LayeredMedium(thick, sig, (*layers, "half_space"))


@lru_cache(maxsize=8)
def lead_geometry(lead: str) -> LeadGeometry:
    """The geometry of a transcutaneous lead (or alias)."""
    name = canonical_lead(lead)
    cfg = _cfg()
    spec = cfg["leads"][name]
    site = str(spec["site"])
    radius = float(_v(spec["contact_radius_um"]))
    half = float(_v(spec["contact_spacing_um"])) / 2.0
    if half < radius:
        raise ValidationError("contact_spacing_um", 2 * half, f"≥ 2 × the radius {radius:g} µm")
    electrode = SurfaceElectrode(
        (SurfaceContact(0.0, -half, radius, 1.0), SurfaceContact(0.0, half, radius, -1.0)),
        profile=spec["profile"],
    )
    skin = cfg["skin_fibres"]
    depth = skin["depth_um"][site]
    classes = ("Abeta", "Adelta") if site == "neck" else ("Abeta", "Adelta", "C")
    slabs = [SlabGroup(f"skin_{c}", "skin", skin[c]["model"], _diameter(skin[c]["diameter_um"]),
                       (float(depth["min"]), float(depth["max"])), radius)
             for c in classes]  # fmt: skip
    vagus_depth = vagus_lateral = None
    if site == "neck":
        for gname, g in cfg["muscle_fibres"].items():
            d = g["depth_um"]
            slabs.append(SlabGroup(gname, "muscle", g["model"], _diameter(g["diameter_um"]),
                                   (float(d["min"]), float(d["max"])), radius))  # fmt: skip
        vagus_depth = float(_v(cfg["vagus"]["depth_um"]))
        vagus_lateral = float(_v(cfg["vagus"]["lateral_offset_um"]))
    return LeadGeometry(
        lead=name,
        site=site,
        medium=site_medium(site),
        electrode=electrode,
        waveform_kind=str(spec["waveform"]),
        pulse_widths_us=tuple(float(x) for x in _v(spec["pulse_widths_us"])),
        fibre_length_um=float(_v(spec["fibre_length_um"])),
        slabs=tuple(slabs),
        vagus_depth_um=vagus_depth,
        vagus_lateral_um=vagus_lateral,
    )


def with_vagus_depth(geom: LeadGeometry, depth_um: float) -> LeadGeometry:
    """``geom`` with the cervical vagus's centre at ``depth_um`` (µm below the skin)."""
    if geom.vagus_depth_um is None:
        raise ValidationError("lead", geom.lead, "a lead over the cervical vagus (the neck)")
    r = PopulationParameters.default().nerve_diameter_um / 2.0
    deepest_slab = max(s.depth_um[1] for s in geom.slabs)
    ok = isinstance(depth_um, int | float) and math.isfinite(depth_um)
    if not ok or depth_um - r <= deepest_slab:
        allowed = f"a depth > {deepest_slab + r:g} µm (below the muscle slab)"
        raise ValidationError("vagus_depth_um", depth_um, allowed)
    return replace(geom, vagus_depth_um=float(depth_um))


def vagus_depth_um(quantile: float | FloatArray) -> FloatArray:
    """Depth (µm) of the cervical vagus at population quantile(s) ``quantile`` in (0, 1):
    normal with the published mean and SD (Hammer 2018, ``data/transcutaneous.yaml``)."""
    from scipy import special  # type: ignore[import-untyped]

    q = np.asarray(quantile, dtype=np.float64)
    if not np.all((q > 0) & (q < 1)):
        raise ValidationError("quantile", quantile, "quantiles in (0, 1)")
    v = _cfg()["vagus"]
    mean, sd = float(_v(v["depth_um"])), float(_v(v["depth_sd_um"]))
    return np.asarray(mean + sd * special.ndtri(q), dtype=np.float64)


# -------------------------------------------------------------------------------- population
@dataclass(frozen=True)
class SitePopulation:
    """A fibre sample under a skin electrode (arrays of equal length, one per fibre).

    ``y_um`` is the depth below the skin; the other fields are those of
    :class:`~openvns.nerve.population.FibrePopulation` (weight 1 per sampled fibre), plus
    ``band``: the surrogate band of each fibre's group.
    """

    x_um: FloatArray
    y_um: FloatArray
    diameter_um: FloatArray
    model: NDArray[np.str_]
    group: NDArray[np.str_]
    band: NDArray[np.str_]
    weight: FloatArray
    z_offset_frac: FloatArray
    groups: tuple[str, ...]
    seed: int

    def __len__(self) -> int:
        return int(self.x_um.size)

    def subset(self, idx: NDArray[np.int64]) -> SitePopulation:
        """The fibres ``idx`` (same groups)."""
        take = {k: getattr(self, k)[idx] for k in
                ("x_um", "y_um", "diameter_um", "model", "group", "band", "weight",
                 "z_offset_frac")}  # fmt: skip
        return SitePopulation(**take, groups=self.groups, seed=self.seed)


def _slab_sample(geom: LeadGeometry, slab: SlabGroup, n: int, seed: int) -> dict[str, Any]:
    gen = np.random.default_rng(seed_sequence(seed, "transcutaneous", geom.site, slab.name))
    sobol = qmc.Sobol(d=4, scramble=True, seed=gen)
    u = sobol.random_base2(max(0, math.ceil(math.log2(n))))[:n]
    lo, hi = slab.depth_um
    return {
        "x": (2.0 * u[:, 0] - 1.0) * slab.half_width_um,
        "y": lo + u[:, 1] * (hi - lo),
        "d": slab.diameter.ppf(u[:, 2]),
        "z": u[:, 3],
    }


def sample_site_population(
    geom: LeadGeometry,
    n_per_group: int,
    seed: int = 0,
    *,
    models: tuple[str, ...] | None = None,
) -> SitePopulation:
    """``n_per_group`` fibres of every group of ``geom`` (or only of fibre ``models``)."""
    if isinstance(n_per_group, bool) or not isinstance(n_per_group, int) or n_per_group < 1:
        raise ValidationError("n_per_group", n_per_group, "an integer ≥ 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValidationError("seed", seed, "a non-negative integer")
    cols: dict[str, list[Any]] = {k: [] for k in ("x", "y", "d", "z", "g", "m", "b")}
    if geom.vagus_depth_um is not None:
        params = PopulationParameters.default()
        pop = sample_population(params, n_per_group=n_per_group, seed=seed)
        keep = np.ones(len(pop), dtype=bool) if models is None else np.isin(pop.model, models)
        cols["x"].append(pop.x_um[keep] + float(geom.vagus_lateral_um or 0.0))
        cols["y"].append(pop.y_um[keep] + geom.vagus_depth_um)
        cols["d"].append(pop.diameter_um[keep])
        cols["z"].append(pop.z_offset_frac[keep])
        cols["g"].append(pop.group[keep])
        cols["m"].append(pop.model[keep])
        cols["b"].append(np.full(int(keep.sum()), "vagus"))
    for slab in geom.slabs:
        if models is not None and slab.model not in models:
            continue
        s = _slab_sample(geom, slab, n_per_group, seed)
        for k in ("x", "y", "d", "z"):
            cols[k].append(s[k])
        cols["g"].append(np.full(n_per_group, slab.name))
        cols["m"].append(np.full(n_per_group, slab.model))
        cols["b"].append(np.full(n_per_group, slab.band))
    x = np.concatenate(cols["x"]).astype(np.float64)
    return SitePopulation(
        x_um=x,
        y_um=np.concatenate(cols["y"]).astype(np.float64),
        diameter_um=np.concatenate(cols["d"]).astype(np.float64),
        model=np.concatenate(cols["m"]).astype(np.str_),
        group=np.concatenate(cols["g"]).astype(np.str_),
        band=np.concatenate(cols["b"]).astype(np.str_),
        weight=np.ones(x.size),
        z_offset_frac=np.concatenate(cols["z"]).astype(np.float64),
        groups=geom.groups,
        seed=seed,
    )


# ------------------------------------------------------------------------- counts and mapping
def group_counts(lead: str) -> dict[str, float]:
    """Fibres under the electrode per table group (skin: density × footprint width; vagal
    groups: the cervical counts; muscle groups: their share of one motor group)."""
    geom = lead_geometry(lead)
    skin = _cfg()["skin_fibres"]["density_per_mm"]
    axons = float(_v(skin["axons"]))
    myel = float(_v(skin["myelinated_fraction"]))
    abeta = float(_v(skin["abeta_of_myelinated"]))
    per_class = {"Abeta": axons * myel * abeta, "Adelta": axons * myel * (1 - abeta),
                 "C": axons * (1 - myel)}  # fmt: skip
    out: dict[str, float] = {}
    if geom.vagus_depth_um is not None:
        params = PopulationParameters.default()
        out.update({g: params.count(g) for g in VAGAL_GROUPS})
    for slab in geom.slabs:
        width_mm = 2.0 * slab.half_width_um / 1000.0
        if slab.band == "skin":
            out[slab.name] = per_class[slab.name.removeprefix("skin_")] * width_mm
        else:
            out[slab.name] = float(_v(_cfg()["muscle_fibres"][slab.name]["share"]))
    return out


def vagal_share(lead: str) -> float:
    """Share of the skin fibres under the electrode that belong to the vagus (ABVN)."""
    geom = lead_geometry(lead)
    return float(_v(_cfg()["skin_fibres"]["vagal_share"][geom.site]))


def physiology_map(lead: str) -> dict[str, dict[str, float]]:
    """Physiology group -> {table group: weight}: the physiology's fraction of a group is the
    weighted sum of the table's group fractions (groups not named are 0)."""
    geom = lead_geometry(lead)
    counts = group_counts(lead)
    out: dict[str, dict[str, float]] = {}
    if geom.vagus_depth_um is not None:
        out.update({g: {g: 1.0} for g in VAGAL_GROUPS})
    share = vagal_share(lead)
    cervical = PopulationParameters.default()
    for slab in geom.slabs:
        if slab.band == "skin":
            cls = slab.name.removeprefix("skin_")
            if cls in _CUTANEOUS_OF_CLASS:
                out.setdefault(_CUTANEOUS_OF_CLASS[cls], {})[slab.name] = 1.0
            if share > 0:
                w = share * counts[slab.name] / cervical.count(_VAGAL_OF_CLASS[cls])
                out.setdefault(_VAGAL_OF_CLASS[cls], {})[slab.name] = w
        else:
            out.setdefault("muscle_motor", {})[slab.name] = counts[slab.name]
    if "muscle_motor" in out:
        total = sum(out["muscle_motor"].values())
        out["muscle_motor"] = {k: v / total for k, v in out["muscle_motor"].items()}
    return out


# ---------------------------------------------------------------------------------- perception
def sensory_threshold_mA(
    lead: str,
    pulse_width_us: float,
    coupling: float | FloatArray = 1.0,
    table: Any = None,
) -> float | FloatArray:
    """Current (mA) at which a patient starts to feel the stimulation.

    Perception starts when ``perception.abeta_fibres`` cutaneous Aβ fibres under the electrode
    fire (``data/transcutaneous.yaml``; their count from the innervation density). ``coupling``
    is the patient's threshold multiplier θ (scalar or array); it scales the threshold, as it
    scales every fibre's threshold.

    Parameters
    ----------
    lead
        A transcutaneous lead id or alias.
    pulse_width_us
        Pulse width within the table's range (gammaCore: its 1000 µs burst).
    coupling
        Threshold multiplier(s) > 0.
    table
        The lead's recruitment table (default: the shipped / cached / built one).

    Returns
    -------
    float or numpy.ndarray
        Threshold(s) in mA; ``inf`` if too few Aβ fibres lie under the electrode or none fires
        within the solver's range.
    """
    name = canonical_lead(lead)
    c = np.asarray(coupling, dtype=np.float64)
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise ValidationError("coupling", coupling, "finite threshold multipliers > 0")
    if table is None:
        from openvns.nerve.transcutaneous_tables import build_transcutaneous_table

        table = build_transcutaneous_table(name)
    need = float(_v(_cfg()["perception"]["abeta_fibres"]))
    count = group_counts(name)["skin_Abeta"]
    members = np.flatnonzero(table.group_index == table.groups.index("skin_Abeta"))
    thr = np.sort(table.thresholds_at(pulse_width_us)[members])
    per_fibre = count / thr.size
    rank = math.ceil(need / per_fibre - 1e-9) - 1
    base = float(thr[rank]) if 0 <= rank < thr.size else math.inf
    out = base * c
    return float(out) if out.ndim == 0 else np.asarray(out, dtype=np.float64)
