"""``Simulation``: one virtual patient (or several) under one protocol, every state per day.

.. code-block:: python

    from openvns.simulation import Simulation

    sim = Simulation("fibromyalgia#0042", "titrate from 0.25 mA by 0.25 mA every 14 days to "
                     "tolerance, max 2.0 mA; 20 Hz; 250 us; 30 s on / 5 min off")
    solution = sim.run(365)
    solution.plot()

The model (:mod:`openvns.physiology`), the parameter values (:class:`ModelParameters`), the
protocol (:mod:`openvns.protocol`) and the device (catalogue generator and lead) are kept apart,
as PyBaMM keeps model, parameter values, experiment and simulation apart; :meth:`Simulation.run`
wires them through the one engine, :func:`~openvns.simulation.engine.simulate_cohort`, that the
trial runner calls for every arm and chunk.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

import openvns
from openvns.device import catalogue
from openvns.errors import ValidationError
from openvns.patients.cohort import Cohort, parse_patient_name, patient_name, sample_patients
from openvns.patients.conditions import conditions_version
from openvns.protocol.text import Protocol
from openvns.random import DEFAULT_ROOT_SEED, RNG_SCHEME
from openvns.simulation.courses import Course, Recruitment, check_modelled
from openvns.simulation.engine import CohortTrajectory, simulate_cohort
from openvns.simulation.parameters import ModelParameters
from openvns.simulation.recruitment import default_recruitment
from openvns.simulation.solution import Solution

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_GENERATOR", "Simulation"]

#: The generator a simulation uses when none is named (catalogue id; SenTiva).
DEFAULT_GENERATOR = "1000"


def _same_patients(a: Cohort, b: Cohort) -> bool:
    """Whether two cohorts hold the same patients with the same traits."""
    fields = ("indices", "coupling", "tolerance", "pro_nociceptive", "responder")
    same_traits = a.traits.keys() == b.traits.keys() and all(
        np.array_equal(v, b.traits[k]) for k, v in a.traits.items()
    )
    return same_traits and all(np.array_equal(getattr(a, f), getattr(b, f)) for f in fields)


def _cohort(
    patient: str | Sequence[str] | Cohort, seed: int, parameters: ModelParameters | None
) -> tuple[Cohort, ModelParameters]:
    if isinstance(patient, Cohort):
        mp = parameters or ModelParameters.default(patient.condition)
        if mp.condition.name != patient.condition.name:
            raise ValidationError(
                "parameters.condition",
                mp.condition.name,
                f"the patients' ({patient.condition.name})",
            )
        if seed != patient.root_seed:
            raise ValidationError(
                "seed", seed, f"the root seed the cohort was drawn under ({patient.root_seed})"
            )
        if parameters is not None and not _same_patients(
            patient, sample_patients(mp.condition, patient.indices, seed, mp.physiology)
        ):
            raise ValidationError(
                "parameters",
                "changed",
                "the parameters the cohort was drawn with (pass patient names to draw the "
                "patients with these parameters)",
            )
        return patient, mp
    names = [patient] if isinstance(patient, str) else list(patient)
    if not names:
        raise ValidationError("patient", names, "at least one patient name")
    parsed = [parse_patient_name(name) for name in names]
    conditions = {c for c, _ in parsed}
    if len(conditions) != 1:
        raise ValidationError("patient", names, "patients of one condition")
    cond = conditions.pop()
    mp = parameters or ModelParameters.default(cond)
    if mp.condition.name != cond:
        raise ValidationError("parameters.condition", mp.condition.name, f"the patients' ({cond})")
    cohort = sample_patients(mp.condition, [i for _, i in parsed], seed, mp.physiology)
    return cohort, mp


class Simulation:
    """Virtual patients under a protocol through a device.

    Parameters
    ----------
    patient
        A name (``"fibromyalgia#0042"``: the condition and the patient's index), several names
        of one condition, or a :class:`~openvns.patients.cohort.Cohort`.
    protocol
        The protocol text or a :class:`~openvns.protocol.Protocol`. Its phase lengths, if any,
        set the baseline (no stimulation) and where ``open_label`` starts.
    generator, lead
        Catalogue ids (default: SenTiva and its default lead, the 2 mm PerenniaFLEX). The
        protocol is checked against them (:meth:`Protocol.check`); an unsafe protocol or a
        non-invasive device (no recruitment model yet) is refused.
    parameters
        Physiology, condition and diary parameters (default: the shipped sets for the patient's
        condition); sweep with ``ModelParameters.default(...).with_(name=value)``.
    seed
        Root seed; each patient's streams are named by the patient, so ``fibromyalgia#0042``
        is the same patient, with the same days, as in any trial under this seed.
    open_label
        A protocol that replaces ``protocol`` after its blinded phase (``protocol.blinded_days``)
        — a trial's sham arm crossing over to the open-label extension.
    recruitment
        ``recruitment(current_mA, pulse_width_us)`` fractions (default: the lead's table).
    """

    def __init__(
        self,
        patient: str | Sequence[str] | Cohort,
        protocol: str | Protocol,
        *,
        generator: str = DEFAULT_GENERATOR,
        lead: str | None = None,
        parameters: ModelParameters | None = None,
        seed: int = DEFAULT_ROOT_SEED,
        open_label: str | Protocol | None = None,
        recruitment: Recruitment | None = None,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValidationError("seed", seed, "a whole number ≥ 0")
        self.protocol = Protocol.parse(protocol) if isinstance(protocol, str) else protocol
        self.open_label = Protocol.parse(open_label) if isinstance(open_label, str) else open_label
        gen = check_modelled(generator, lead)
        cat = catalogue.default_catalogue()
        self.generator = gen.id
        self.lead = cat.lead(lead).id if lead is not None else cat.default_lead(gen).id
        for prot in (self.protocol, self.open_label):
            if prot is not None:
                report = prot.check(self.generator, self.lead)
                if not report.ok:
                    report.raise_for_errors()
        if self.open_label is not None and self.protocol.blinded_days < 1:
            raise ValidationError(
                "open_label",
                str(self.open_label),
                "a protocol whose blinded phase ('blinded N days') says when the open label starts",
            )
        self.seed = seed
        self.cohort, self.parameters = _cohort(patient, seed, parameters)
        self.recruitment = recruitment or default_recruitment(self.lead)

    @property
    def patients(self) -> list[str]:
        """Names of the simulated patients."""
        return [patient_name(self.cohort.condition.name, int(i)) for i in self.cohort.indices]

    def courses(self, treatment_days: int) -> list[Course]:
        """The protocol (and open label) as courses of the engine."""
        gen = catalogue.generator(self.generator)
        everyone = np.ones(self.cohort.n, dtype=bool)
        implant = gen.kind == "implanted"
        rec, ramp = self.recruitment, gen.ramp_s
        step = gen.parameters["output_current_mA"].step  # as the trial: the device's steps

        def course(protocol: Protocol, start: int, end: int) -> Course:
            return Course(protocol, everyone, start, end, rec, ramp, implanted=implant,
                          home_use=not implant, current_step_mA=step)  # fmt: skip

        if self.open_label is None:
            return [course(self.protocol, 0, treatment_days)]
        switch = self.protocol.blinded_days
        return [course(self.protocol, 0, switch), course(self.open_label, switch, treatment_days)]

    def run(self, days: int | None = None, *, minutes: bool = False) -> Solution:
        """Simulate ``days`` days (the protocol's baseline first, then treatment).

        ``days`` defaults to the protocol's phases (baseline + blinded + open label). With
        ``minutes`` the brainstem is integrated per minute over the device's ON/OFF schedule
        (the exact path) and the solution keeps the per-minute states
        (:meth:`Solution.minute_frame`).
        """
        p = self.protocol
        phases = p.baseline_days + p.blinded_days + p.open_label_days
        if days is None:
            if not phases:
                raise ValidationError("days", None, "a number of days (the protocol has no phases)")
            days = phases
        if isinstance(days, bool) or not isinstance(days, int) or days < p.baseline_days:
            raise ValidationError(
                "days", days, f"a whole number ≥ {p.baseline_days} (the baseline)"
            )
        treat = days - p.baseline_days
        traj = simulate_cohort(
            self.cohort,
            self.courses(treat),
            baseline_days=p.baseline_days,
            treatment_days=treat,
            root_seed=self.seed,
            parameters=self.parameters,
            detail=True,
            minutes=minutes,
        )
        states: dict[str, Any] = dict(traj.detail)
        states.update(
            nrs=traj.nrs,
            observed=traj.observed,
            ae_reported=traj.ae_reported,
            ae_severity=traj.ae_severity,
        )
        states.update(_condition_states(traj))
        protocols = (str(p),) if self.open_label is None else (str(p), str(self.open_label))
        mp = self.parameters
        return Solution(
            patients=tuple(self.patients),
            days=days,
            baseline_days=p.baseline_days,
            states=states,
            protocol=protocols,
            provenance={
                "root_seed": self.seed,
                "version": openvns.__version__,
                "rng_scheme": RNG_SCHEME,
                "physiology_version": mp.physiology.version,
                "side_effects_version": mp.side_effects.version,
                "conditions_version": conditions_version(),
                "condition": mp.condition.name,
                "generator": self.generator,
                "lead": self.lead,
                "recruitment": getattr(self.recruitment, "identity", repr(self.recruitment)),
                "coupling": traj.coupling.tolist(),
                "tolerance": traj.tolerance.tolist(),
                "dropout_day": traj.dropout_day.tolist(),
                **({} if traj.adherence is None else {"adherence": traj.adherence.tolist()}),
            },
        )

    def __repr__(self) -> str:
        return (
            f"Simulation({', '.join(self.patients)}, {str(self.protocol)!r}, "
            f"generator={self.generator!r}, lead={self.lead!r}, seed={self.seed})"
        )


def _condition_states(traj: CohortTrajectory) -> dict[str, npt.NDArray[Any]]:
    """The per-day states of a condition's own diary: a headache condition's attack diary
    (attacks, headache and migraine days, worst severity, mean duration, rescue medication,
    whether the entry was made, attacks treated at onset) and the daily worst pain."""
    out: dict[str, npt.NDArray[Any]] = {}
    a = traj.attacks
    if a is not None:
        out.update(
            attacks=a.attacks,
            headache_day=a.headache_day,
            migraine_day=a.migraine_day,
            attack_peak_severity=a.peak_severity,
            attack_duration_min=a.duration_min,
            rescue_medication=a.rescue,
            attack_diary_entered=a.observed,
        )
    t = traj.treated
    if t is not None and a is not None:
        treated = np.zeros(a.attacks.shape, dtype=np.int8)
        rows, slots = np.nonzero(t.day >= 0)
        np.add.at(treated, (rows, t.day[rows, slots]), 1)
        out["attacks_treated"] = treated
    if traj.worst_nrs is not None:
        out["worst_pain_NRS"] = traj.worst_nrs
    return out
