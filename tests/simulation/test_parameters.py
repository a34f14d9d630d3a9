"""One owner per parameter; every sweep either changes a run or is refused (issue 10 item 6).

Three parts: the sweep of every parameter :class:`ModelParameters` owns through a simulation,
the sweep of every parameter of the ``outcomes`` set through
:func:`~openvns.patients.outcomes.simulate_outcomes` (and the MCIDs through the endpoints that
use them), and a guard that every assumption (status A) of the registry's model sets is covered
by one of these sweeps or declared ``used: false`` in its data file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from openvns.analysis import endpoints
from openvns.errors import ValidationError
from openvns.parameters import load_set
from openvns.patients import sample_cohort
from openvns.patients.conditions import Condition, DiaryParameters, condition_names
from openvns.patients.outcomes import (
    Mcid,
    OutcomeParameters,
    Outcomes,
    load_outcome_parameters,
    simulate_outcomes,
)
from openvns.physiology.drive import GROUPS
from openvns.physiology.parameters import PhysiologyParameters, unused_parameters
from openvns.physiology.side_effect_parameters import SideEffectParameters
from openvns.simulation import ModelParameters, Simulation
from openvns.simulation.engine import simulate_cohort

PROTOCOL = (
    "titrate from 0.25 mA by 0.25 mA every 7 days to tolerance, max 2.0 mA; "
    "20 Hz; 250 us; 30 s on / 5 min off; baseline 14 days"
)
PATIENTS = [f"fibromyalgia#{i:04d}" for i in range(40)]
DAYS = 150
#: States compared between runs (anything a sweep can reach).
COMPARED = (
    "nrs", "observed", "P_true_NRS", "programmed_current_mA", "ae_reported", "dropped_out",
    "HR_change_pct", "T", "B", "hazard_per_d", "S", "R", "M", "reported_pain_NRS", "present",
    "intensity", "ae_severity",
)  # fmt: skip

#: Perturbations the generic rule (× 1.3, or × 0.7 where that leaves the range) would not
#: see in 40 patients over 150 days, each with why.
SPECIAL: dict[str, Any] = {
    # D50_down_over_D50_up is used only with descending_limb_input = "drive": see below
    "descending_limb_input": "drive",
    # a ceiling above every sampled patient's E_acute_max changes nothing: lower it a lot
    "E_acute_max_ceiling": 0.02,
    # pulse-free standard schedule parameters of the S50 calibration: change them a lot
    "standard_off_time_min": 30.0,
    # the missing-not-at-random odds only act when entries go missing
    "mnar_odds_per_NRS": 3.0,
    # rare: voice is mostly present under stimulation, so background onsets need a large rate
    "voice.background_per_d": 0.01,
    # palpitations are rare and mild at clinical currents: make any episode intolerable
    "heart_rate.intolerable": 0.001,
    # a skin channel saturates at any session: only a reference above the exposure shows
    "application_site.reference_duty": 0.5,
    "muscle_twitch.reference_duty": 0.5,
    # a skin channel is felt at any pulse rate: only a half-drive rate near the stimulation's shows
    "application_site.f50_Hz": 20.0,
    "muscle_twitch.f50_Hz": 20.0,
}


def _with_c_fibres(current_mA: np.ndarray, pulse_width_us: float) -> np.ndarray:
    """Recruitment that reaches the C afferents (none do at clinical currents in the 2 mm
    table, so their weight in the drive is swept through this one)."""
    r = np.zeros((current_mA.shape[0], len(GROUPS)))
    r[:, GROUPS.index("A_afferent")] = 0.3
    r[:, GROUPS.index("C_afferent")] = np.minimum(current_mA / 0.5, 1.0)
    return r


def _with_skin(current_mA: np.ndarray, pulse_width_us: float) -> np.ndarray:
    """Recruitment of a skin electrode (the skin groups a cuff does not reach, so the channels
    and weights they drive are swept through this one)."""
    r = np.zeros((current_mA.shape[0], len(GROUPS)))
    for group, share in (("laryngeal_motor", 0.2), ("cardiac_B", 0.05), ("A_afferent", 0.1),
                         ("Adelta_afferent", 0.1)):  # fmt: skip
        r[:, GROUPS.index(group)] = share * np.minimum(current_mA, 1.0)
    r[:, GROUPS.index("cutaneous_Abeta")] = np.minimum(current_mA / 1.0, 1.0)
    r[:, GROUPS.index("cutaneous_Adelta")] = np.minimum(current_mA / 2.0, 1.0)
    r[:, GROUPS.index("muscle_motor")] = np.minimum(current_mA / 2.0, 1.0)
    return r


#: Rare channels whose episode length and intolerable level show only when episodes happen:
#: the sweep runs on a base with more onsets (each with why).
PRECONDITION: dict[str, dict[str, float]] = {
    # laryngismus needs near-full motor recruitment and is rare in 40 patients over 150 days
    "laryngismus.onset_per_d": {"laryngismus.drive50": 0.2},
    "laryngismus.episode_d": {"laryngismus.onset_per_d": 0.05, "laryngismus.drive50": 0.2},
    "laryngismus.intolerable": {"laryngismus.onset_per_d": 0.05, "laryngismus.drive50": 0.2},
    # dizziness is rare (Redgrave 2018: 1.4 %)
    "dizziness.episode_d": {"dizziness.onset_per_d": 0.05},
    "dizziness.intolerable": {"dizziness.onset_per_d": 0.05},
}


def _skin_driven(name: str) -> bool:
    channel, _, field = name.partition(".")
    skin_channel = channel in ("application_site", "muscle_twitch")
    return skin_channel or field in ("w_cutaneous_Abeta", "w_cutaneous_Adelta", "w_muscle_motor")


#: A home-use device (adherence scales what it delivers), through the skin recruitment.
HOME_USE: dict[str, Any] = {
    "protocol": "2.0 mA; 20 Hz; 250 us; 30 s on / 0.5 min off; 4 h per day; baseline 14 days",
    "generator": "tavns-auricular",
    "lead": "ear-cymba-conchae",
}


#: The segmental relief acts on head pain only: attacks of a headache condition treated at
#: onset through a skin electrode (gammaCore on the neck), compared by their ratings.
ACUTE_HEADACHE = "2 x sensory threshold, max 60.0 mA; 25 Hz; 1000 us; at attack onset: 3 x 120 s"


def _treated_attack_pain(mp: ModelParameters) -> np.ndarray:
    patients = [f"episodic_cluster#{i:04d}" for i in range(40)]
    sim = Simulation(patients, ACUTE_HEADACHE, generator="gammacore-sapphire-cv",
                     lead="gammacore-contacts", parameters=mp, seed=17)  # fmt: skip
    traj = simulate_cohort(sim.cohort, sim.courses(60), baseline_days=0, treatment_days=60,
                           root_seed=17, parameters=mp)  # fmt: skip
    assert traj.treated is not None
    return np.asarray(traj.treated.pain)


def _run(mp: ModelParameters, **kw: Any) -> dict[str, np.ndarray]:
    protocol = kw.pop("protocol", PROTOCOL)
    sol = Simulation(PATIENTS, protocol, parameters=mp, seed=17, **kw).run(DAYS)
    return {k: np.asarray(sol[k]) for k in COMPARED}


@pytest.fixture(scope="module")
def base() -> tuple[ModelParameters, dict[str, np.ndarray]]:
    mp = ModelParameters.default("fibromyalgia")
    return mp, _run(mp)


def test_every_name_has_exactly_one_owner() -> None:
    phys = set(PhysiologyParameters.model_fields) - {"version"}
    cond = set(Condition.model_fields) - {"name", "label", "physiology_overrides"}
    diary = set(DiaryParameters.model_fields)
    assert not phys & cond
    assert not phys & diary
    assert not cond & diary
    owners = ModelParameters.owners()
    side = set(SideEffectParameters.names())
    assert not side & (phys | cond | diary)
    assert set(owners) == (phys - unused_parameters()) | cond | diary | side


def test_with_routes_each_name_to_its_owner() -> None:
    mp = ModelParameters.default("fibromyalgia")
    out = mp.with_(f_opt_Hz=10.0, p_responder=0.2, missing_rate=0.3)
    assert out.physiology.f_opt_Hz == 10.0
    assert out.condition.p_responder == 0.2
    assert out.diary.missing_rate == 0.3
    assert mp.physiology.f_opt_Hz == 25.0  # the original is unchanged
    with pytest.raises(ValidationError, match="no_such_parameter"):
        mp.with_(no_such_parameter=1.0)
    with pytest.raises(ValidationError, match=r"NE_clearance_tau_s.*documented only"):
        mp.with_(NE_clearance_tau_s=2.0)
    with pytest.raises(ValidationError, match="p_responder"):
        mp.with_(p_responder=1.5)
    # used only with the drive-mode descending limb: alone it would change nothing
    with pytest.raises(ValidationError, match=r"D50_down_over_D50_up.*descending_limb_input"):
        mp.with_(D50_down_over_D50_up=3.0)
    both = mp.with_(descending_limb_input="drive", D50_down_over_D50_up=3.0)
    assert both.physiology.D50_down_over_D50_up == 3.0


def _perturbed(mp: ModelParameters, name: str) -> Any | None:
    if name in SPECIAL:
        return SPECIAL[name]
    value = mp.value(name)
    # side effects are rare events in 40 patients over 150 days: a threefold change
    factors = (3.0, 1.0 / 3.0) if name in SideEffectParameters.names() else (1.3, 0.7)
    for candidate in (value * factors[0], value * factors[1], value + 0.1):
        if candidate == value:
            continue
        try:
            mp.with_(**{name: candidate})
        except ValidationError:
            continue
        return candidate
    return None  # every perturbation is refused


@pytest.mark.parametrize("name", sorted(ModelParameters.owners()))
def test_every_parameter_sweep_changes_the_run(
    base: tuple[ModelParameters, dict[str, np.ndarray]], name: str
) -> None:
    mp, ref = base
    kw: dict[str, Any] = {}
    if name.startswith("segmental_"):  # head pain under a skin electrode only
        head = ModelParameters.default("episodic_cluster")
        value = SPECIAL.get(name, head.value(name) * 0.7)
        pain = _treated_attack_pain(head)
        assert not np.array_equal(_treated_attack_pain(head.with_(**{name: value})), pain), (
            f"sweeping {name} changed nothing"
        )
        return
    if name == "D50_down_over_D50_up":
        mp = mp.with_(descending_limb_input="drive")
        ref = _run(mp)
    if name == "placebo_waning_half_life_d":  # used only when part of the expectation wanes
        mp = mp.with_(placebo_persistent_fraction=0.5)
        ref = _run(mp)
    if name == "w_C_afferent":
        kw["recruitment"] = _with_c_fibres
        ref = _run(mp, **kw)
    if _skin_driven(name):  # a skin electrode: its channels occur only where one is worn
        kw.update(HOME_USE, recruitment=_with_skin)
        ref = _run(mp, **kw)
    if name in ("adherence_mean", "adherence_concentration"):
        kw.update(HOME_USE, recruitment=_with_skin)
        ref = _run(mp, **kw)
    if name in PRECONDITION:
        mp = mp.with_(**PRECONDITION[name])
        ref = _run(mp, **kw)
    new = _perturbed(mp, name)
    if new is None:  # refused: the value is fixed by the model's structure, and the error says so
        with pytest.raises(ValidationError, match=name.replace(".", r"\.")):
            mp.with_(**{name: mp.value(name) + 0.1})
        return
    changed = _run(mp.with_(**{name: new}), **kw)
    assert any(not np.array_equal(changed[k], ref[k]) for k in COMPARED), (
        f"sweeping {name} changed nothing"
    )


def _with_override(monkeypatch: pytest.MonkeyPatch, overrides: dict[str, Any]) -> None:
    import copy

    from openvns.patients import conditions as module

    raw = copy.deepcopy(module._raw(module.DATA_FILE))
    raw["conditions"]["fibromyalgia"]["overrides"] = overrides
    module.load_condition.cache_clear()
    monkeypatch.setattr(module, "_raw", lambda name=module.DATA_FILE: raw)


def test_a_condition_overrides_a_physiology_value_visibly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from openvns.patients import conditions as module

    entry = {"value": 0.2, "status": "A", "provisional": True, "source": "test: a larger effect"}
    _with_override(monkeypatch, {"E_acute_max": entry})
    try:
        mp = ModelParameters.default("fibromyalgia")
        assert mp.physiology.E_acute_max == 0.2  # applied to the run ...
        assert mp.condition.physiology_overrides == {"E_acute_max": 0.2}
        prov = module.provenance("fibromyalgia")  # ... and shown in the condition's table
        assert prov["overrides.E_acute_max"].source == "test: a larger effect"
        assert ModelParameters.default("crps").physiology.E_acute_max == 0.10  # others keep it
        # an override must name a physiology parameter, never shadow a condition value
        module.load_condition.cache_clear()
        _with_override(monkeypatch, {"p_responder": {**entry, "value": 0.5}})
        with pytest.raises(ValidationError, match=r"overrides\.p_responder"):
            ModelParameters.default("fibromyalgia")
        module.load_condition.cache_clear()
        _with_override(monkeypatch, {"no_such": entry})
        with pytest.raises(ValidationError, match=r"fibromyalgia\.overrides\.no_such"):
            ModelParameters.default("fibromyalgia")
        module.load_condition.cache_clear()
        _with_override(monkeypatch, {"E_acute_max": {**entry, "provisional": False}})
        with pytest.raises(ValueError, match="provisional"):
            ModelParameters.default("fibromyalgia")
    finally:
        module.load_condition.cache_clear()


# ----------------------------------------------------------------------------- outcomes set
OUTCOME_DAYS, OUTCOME_BASE = 90, 28
#: Outcome-model perturbations the generic rule (× 1.3, × 0.7, + 0.1) cannot make, with why.
OUTCOME_SPECIAL: dict[str, Any] = {
    "bpi_items": 5,  # a whole number of items
    "mcid_pgic_category": 1,  # a PGIC category: "very much improved" only
}
#: MCIDs: not inputs of simulate_outcomes but of the endpoints that classify its output; each
#: is swept through its endpoint. The pain MCID has none: the trial's pain responders are the
#: IMMPACT 30 % and 50 % named in their fields (responders_30/_50), so it is reference data.
MCID_ENDPOINTS = {
    "mcid_pgic_category": "pgic",
    "mcid_bpi_interference_points": "bpi_interference",
    "mcid_fiqr_pct": "fiqr",
    "mcid_sleep_NRS": "sleep",
}
OUTCOME_NOT_SWEPT = {"mcid_pain_pct"}
#: Declared ``used: false`` in outcomes.yaml (the PGIC rank-correlation band: a check of the
#: model in tests/patients/test_outcomes.py, not an input to it).
OUTCOME_UNUSED = {p.name for p in load_set("outcomes") if not p.used}
#: The Outcomes arrays compared between sweeps.
OUTCOME_ARRAYS = (
    "pgic", "perceived_change_pct", "bpi_interference", "fiqr", "fiqr_function", "fiqr_overall",
    "fiqr_symptoms", "sleep",
)  # fmt: skip


def _outcome_pain() -> np.ndarray:
    """A fixed felt pain ``(60, 90)``: baselines from 0.3 (below the relative-change floor) to
    9, then changes from −80 % to +60 % reached over two weeks, and a daily wobble."""
    n = 60
    rng = np.random.default_rng(5)
    base = np.linspace(0.3, 9.0, n)
    change = np.linspace(-0.8, 0.6, n)[rng.permutation(n)]
    day = np.arange(OUTCOME_DAYS) - OUTCOME_BASE
    ramp = np.clip((day + 1) / 14.0, 0.0, 1.0)
    pain = base[:, None] * (1.0 + change[:, None] * ramp[None, :])
    return np.asarray(pain + 0.3 * rng.standard_normal((n, OUTCOME_DAYS)), dtype=np.float64)


@pytest.fixture(scope="module")
def outcome_base() -> tuple[Any, np.ndarray, Outcomes]:
    cohort = sample_cohort("fibromyalgia", 60, root_seed=3)  # FIQR needs fibromyalgia
    pain = _outcome_pain()
    out = simulate_outcomes(cohort, pain, baseline_days=OUTCOME_BASE, root_seed=9)
    return cohort, pain, out


def _outcome_perturbed(p: OutcomeParameters, name: str) -> Any:
    if name in OUTCOME_SPECIAL:
        return OUTCOME_SPECIAL[name]
    value = getattr(p, name)
    for candidate in (value * 1.3, value * 0.7, value + 0.1):
        if candidate == value:
            continue
        try:
            p.with_(**{name: candidate})
        except Exception:  # pydantic's ValidationError: outside the field's range
            continue
        return candidate
    return None  # every perturbation is refused


def _endpoint_result(outcome: str, out: Outcomes) -> np.ndarray:
    end = OUTCOME_DAYS - 1
    if outcome == "pgic":
        return endpoints.pgic_much_improved(out.pgic[:, end]).improved
    fn = {"bpi_interference": endpoints.bpi_interference_change, "fiqr": endpoints.fiqr_change,
          "sleep": endpoints.sleep_change}[outcome]  # fmt: skip
    series = getattr(out, outcome)
    return fn(series[:, OUTCOME_BASE - 1], series[:, end]).responders.improved


def _outcome_names() -> list[str]:
    return sorted(set(OutcomeParameters.model_fields) - OUTCOME_NOT_SWEPT - OUTCOME_UNUSED)


@pytest.mark.parametrize("name", _outcome_names())
def test_every_outcome_parameter_sweep_changes_the_outcomes(
    outcome_base: tuple[Any, np.ndarray, Outcomes], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort, pain, ref = outcome_base
    p = load_outcome_parameters()
    value = _outcome_perturbed(p, name)
    if name in MCID_ENDPOINTS:
        outcome = MCID_ENDPOINTS[name]
        before = _endpoint_result(outcome, ref)
        original = endpoints.mcid

        def perturbed(which: str) -> Mcid:
            m = original(which)
            return Mcid(m.outcome, m.name, float(value), m.unit, m.provenance) if m.name == name \
                else m  # fmt: skip

        monkeypatch.setattr(endpoints, "mcid", perturbed)
        after = _endpoint_result(outcome, ref)
        assert not np.array_equal(before, after), f"sweeping {name} changed no endpoint"
        return
    changed = simulate_outcomes(
        cohort, pain, baseline_days=OUTCOME_BASE, root_seed=9, params=p.with_(**{name: value})
    )
    assert any(
        not np.array_equal(getattr(changed, k), getattr(ref, k), equal_nan=True)
        for k in OUTCOME_ARRAYS
    ), f"sweeping {name} changed no outcome"


# ----------------------------------------------------------------------- the registry guard
#: The registry sets of the patient model and what each name is swept as.
MODEL_SETS = ("physiology", "side_effects", *(f"conditions/{c}" for c in condition_names()),
              "conditions/diary", "outcomes")  # fmt: skip


def _swept_name(set_name: str, name: str) -> str:
    """The registry's name of a parameter as the sweeps name it."""
    if set_name == "side_effects":
        return name.removeprefix("channels.")  # channels.cough.onset_per_d -> cough.onset_per_d
    if set_name.startswith("conditions/"):
        return name.removeprefix("overrides.")  # a condition's value of a physiology parameter
    return name


def test_every_assumption_is_swept_or_declared_unused() -> None:
    """An assumption-tagged parameter must be shown to matter (swept by one of the tests above)
    or be declared ``used: false`` in its data file: a new one cannot be added silently."""
    swept = {
        **{n: "test_every_parameter_sweep_changes_the_run" for n in ModelParameters.owners()},
        **{n: "test_every_outcome_parameter_sweep_changes_the_outcomes"
           for n in _outcome_names()},
    }  # fmt: skip
    missing = [
        f"{set_name}:{param.name}"
        for set_name in MODEL_SETS
        for param in load_set(set_name)
        if param.status == "A" and param.used and _swept_name(set_name, param.name) not in swept
    ]
    assert not missing, "assumptions no sweep covers (sweep them or declare used: false): " + (
        ", ".join(missing)
    )
    assert sorted(OUTCOME_UNUSED) == ["rank_correlation_high", "rank_correlation_low"]
