"""Trial design as data: arms, baseline, inclusion on baseline pain, randomisation, phases.

Everything round-trips through TOML-friendly dicts (:meth:`TrialDesign.to_dict`,
:meth:`TrialDesign.from_dict`); protocols appear there in their text form. Errors name the key
(``arms[1].kind``) and the allowed values.
"""

from __future__ import annotations

import math
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError as PydanticValidationError
from pydantic import model_validator

from openvns.analysis.endpoints import ENDPOINT_WINDOW_DAYS
from openvns.base import FrozenModel
from openvns.device import catalogue, safety
from openvns.errors import ValidationError
from openvns.protocol.text import STANDARD_TITRATION, Protocol, unwrap
from openvns.simulation.courses import check_modelled
from openvns.trials.interim import Interim
from openvns.trials.withdrawal import Withdrawal

M = TypeVar("M", bound=FrozenModel)

ArmKind = Literal["active", "sham", "low_dose", "standard_of_care"]
ARM_KINDS: tuple[str, ...] = ("active", "sham", "low_dose", "standard_of_care")


def is_sham_device(generator: str | None, lead: str | None) -> bool:
    """Whether a device is a sham: a sham device of a sham-controlled trial (catalogue
    ``sham``) or an electrode at the sham site (the earlobe, which has no vagal fibres).
    ``None`` stands for a device or lead not named (then not a sham by itself)."""
    gen = catalogue.generator(generator) if generator else None
    site = catalogue.lead(lead).site if lead else None
    return bool((gen is not None and gen.sham) or site == "earlobe")


class Arm(FrozenModel):
    """One arm: a name, its kind, its protocol, its allocation weight and its device.

    ``generator`` and ``lead`` (catalogue ids) default to the design's: each arm has one
    device, whose lead's recruitment table the arm's patients are simulated with.
    ``expectation`` is the multiplier on the patients' expectation (placebo) fraction while the
    arm's own protocol runs (default: a device's, the diary's ``sham_device_placebo_multiplier``;
    1 for a pill-like placebo, 0 for an untreated control); another arm's open-label extension
    on this protocol is a device's. ``implanted`` (default true) says whether the arm's patients
    had an operation (post-operative side effects); false for a pill or untreated control arm.

    A ``standard_of_care`` arm (an open-label add-on trial's control, as PREVA's) gets no
    device: its protocol is at 0 mA, its patients expect nothing of it (``expectation`` 0 unless
    given) and had no operation.
    """

    name: str
    kind: ArmKind
    protocol: Protocol
    ratio: int = 1
    generator: str | None = None
    lead: str | None = None
    expectation: float | None = None
    implanted: bool = True

    @model_validator(mode="before")
    @classmethod
    def _standard_of_care_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind") == "standard_of_care":
            data = dict(data)
            if data.get("expectation") is None:
                data["expectation"] = 0.0
            data.setdefault("implanted", False)
        return data

    def _sham_device(self) -> bool:
        """Whether the arm's own device is a sham (:func:`is_sham_device`), so that its sham may
        run above 0 mA (PREMIUM's sham device; the earlobe sham of auricular studies)."""
        return is_sham_device(self.generator, self.lead)

    @model_validator(mode="after")
    def _valid(self) -> Arm:
        if not self.name.strip():
            raise ValidationError("name", self.name, "a non-empty arm name")
        if self.ratio < 1:
            raise ValidationError("ratio", self.ratio, "a whole number ≥ 1")
        if self.expectation is not None and not self.expectation >= 0:
            raise ValidationError("expectation", self.expectation, "a multiplier ≥ 0 (or none)")
        top = self.protocol.max_current_mA
        if self.kind == "standard_of_care" and top != 0:
            raise ValidationError(
                "protocol",
                str(self.protocol),
                f"a {self.kind.replace('_', ' ')} protocol at 0.0 mA",
            )
        if (
            self.kind == "standard_of_care"
            and self.protocol.stimulation.acute_stimulations_per_attack
        ):
            raise ValidationError(
                "protocol", str(self.protocol), "no acute use in a standard-of-care arm (no device)"
            )
        if self.kind == "standard_of_care" and self.implanted:
            raise ValidationError("implanted", True, "false for a standard-of-care arm (no device)")
        if self.kind == "sham" and top != 0 and not self._sham_device():
            raise ValidationError(
                "protocol",
                str(self.protocol),
                "a sham protocol at 0.0 mA (or a sham device, or the earlobe sham site, above it)",
            )
        if self.kind not in ("sham", "standard_of_care") and top <= 0:
            raise ValidationError(
                "protocol", str(self.protocol), f"a {self.kind} protocol above 0 mA"
            )
        return self


#: Inclusion criteria on the attack diary (headache conditions only).
HEADACHE_CRITERIA = (
    "min_attacks_per_week", "max_attacks_per_week", "min_migraine_days", "max_migraine_days",
    "min_headache_days", "max_headache_days",
)  # fmt: skip


class InclusionCriteria(FrozenModel):
    """Inclusion on the baseline pain diary (NRS 0–10).

    Attributes
    ----------
    min_mean_pain, max_mean_pain
        Mean baseline NRS must lie in ``[min, max]``.
    min_diary_fraction
        Fraction of baseline days with an entry (missing entries are NaN).
    min_attacks_per_week, max_attacks_per_week, min_migraine_days, max_migraine_days,
    min_headache_days, max_headache_days
        Headache conditions (instead of the pain criteria): the baseline rate of attacks per
        week, or of migraine or headache days per 28 days, over the observed baseline days, in
        ``[min, max]`` where given (e.g. EVENT: ≥ 15 headache days).
    """

    min_mean_pain: float = 4.0
    max_mean_pain: float = 10.0
    min_diary_fraction: float = 0.5
    min_attacks_per_week: float | None = None
    max_attacks_per_week: float | None = None
    min_migraine_days: float | None = None
    max_migraine_days: float | None = None
    min_headache_days: float | None = None
    max_headache_days: float | None = None

    @model_validator(mode="after")
    def _valid(self) -> InclusionCriteria:
        for key in ("min_mean_pain", "max_mean_pain"):
            v = getattr(self, key)
            if not math.isfinite(v) or not 0 <= v <= 10:
                raise ValidationError(key, v, "an NRS value in 0–10")
        if self.max_mean_pain < self.min_mean_pain:
            raise ValidationError(
                "max_mean_pain", self.max_mean_pain, f"≥ min_mean_pain ({self.min_mean_pain})"
            )
        for lo, hi in (("min_attacks_per_week", "max_attacks_per_week"),
                       ("min_migraine_days", "max_migraine_days"),
                       ("min_headache_days", "max_headache_days")):  # fmt: skip
            a, b = getattr(self, lo), getattr(self, hi)
            for key, v in ((lo, a), (hi, b)):
                if v is not None and (not math.isfinite(v) or v < 0):
                    raise ValidationError(key, v, "a finite rate ≥ 0 (or none)")
            if a is not None and b is not None and b < a:
                raise ValidationError(hi, b, f"≥ {lo} ({a})")
        if not 0 <= self.min_diary_fraction <= 1:
            raise ValidationError(
                "min_diary_fraction", self.min_diary_fraction, "a fraction in 0–1"
            )
        return self

    def eligible_headache(self, attacks: Any, baseline_days: int) -> npt.NDArray[np.bool_]:
        """Which patients of a headache condition qualify, from the attack diary's first
        ``baseline_days`` (an ``AttackDiary``): the diary fraction and the attack criteria
        (:func:`openvns.trials.screening.headache_failures`)."""
        from openvns.trials.screening import headache_failures

        ok: npt.NDArray[np.bool_] = headache_failures(self, attacks, baseline_days) == 0
        return ok

    def eligible(self, baseline_pain: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Which patients qualify, from baseline NRS ``(n_patients, n_days)``; NaN is missing
        (:func:`openvns.trials.screening.pain_failures`)."""
        from openvns.trials.screening import pain_failures

        ok: npt.NDArray[np.bool_] = pain_failures(self, baseline_pain) == 0
        return ok


class Crossover(FrozenModel):
    """A two-period AB/BA crossover: each patient receives both arms' protocols, one per period,
    with a washout between them.

    The design's two arms are the treatments; a patient allocated to arm 0 gets arm 0's protocol
    in period 1 and arm 1's in period 2 (sequence AB), one allocated to arm 1 the reverse (BA).
    The blinded phase is the two periods and the washout (``2 · period_days + washout_days``);
    nothing is delivered during the washout.
    """

    period_days: int
    washout_days: int = 0

    @model_validator(mode="after")
    def _valid(self) -> Crossover:
        if self.period_days < 1:
            raise ValidationError("period_days", self.period_days, "a whole number ≥ 1")
        if self.washout_days < 0:
            raise ValidationError("washout_days", self.washout_days, "a whole number ≥ 0")
        return self

    @property
    def total_days(self) -> int:
        """Both periods and the washout, in days."""
        return 2 * self.period_days + self.washout_days

    def periods(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """Treatment days ``[start, end)`` of period 1 and period 2."""
        p, w = self.period_days, self.washout_days
        return (0, p), (p + w, 2 * p + w)


#: Longest trial (baseline, blinded phase and open label together) a design may ask for, in
#: days: 10 years, several times the longest VNS trial follow-up (the model's outcomes are
#: calibrated to 12 months). The runner keeps every patient's day-by-day diary, current and
#: side effects in memory (~40 bytes a patient-day), and a day count in the billions asked for
#: tens of GiB per patient batch (a MemoryError) instead of an error naming the field.
MAX_TRIAL_DAYS = 3_650

_DEFAULT_ACTIVE = STANDARD_TITRATION
_DEFAULT_SHAM = "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"


class TrialDesign(FrozenModel):
    """A parallel-arm trial.

    Attributes
    ----------
    generator, lead
        Catalogue generator (id) and lead (``None``: the generator's default) of the arms that
        name none; every protocol is checked against its arm's. Only devices whose lead has a
        recruitment model are simulated (:func:`openvns.simulation.courses.check_modelled`).
    arms
        One arm (an open-label study) or more, with unique names; allocation follows their
        ``ratio``.
    baseline_days, blinded_days, open_label_days
        Phase lengths. In the open-label extension every patient moves to ``open_label_arm``'s
        protocol, through their own arm's device unless that is a sham device
        (:meth:`extension_device_arm`).
    inclusion
        Criteria on the baseline diary.
    crossover
        Two-period AB/BA crossover (:class:`Crossover`); ``None``: parallel arms.
    interim
        One pre-specified interim analysis of the first two arms' primary comparison, stopping
        for efficacy or futility (:class:`openvns.trials.interim.Interim`); ``None``: none.
    withdrawal
        A randomised-withdrawal design: both arms on the first arm's protocol for an open-label
        run-in, then the second arm withdrawn to its own
        (:class:`openvns.trials.withdrawal.Withdrawal`); ``None``: none.
    """

    generator: str = "1000"
    lead: str | None = None
    arms: tuple[Arm, ...]
    baseline_days: int = 28
    blinded_days: int = 84
    open_label_days: int = 281
    open_label_arm: str | None = None
    inclusion: InclusionCriteria = InclusionCriteria()
    crossover: Crossover | None = None
    interim: Interim | None = None
    withdrawal: Withdrawal | None = None

    @model_validator(mode="after")
    def _valid(self) -> TrialDesign:
        for key in ("baseline_days", "blinded_days", "open_label_days"):
            if getattr(self, key) < 0:
                raise ValidationError(key, getattr(self, key), "a whole number of days ≥ 0")
        if self.blinded_days < 1:
            raise ValidationError("blinded_days", self.blinded_days, "a whole number of days ≥ 1")
        phases = ("baseline_days", "blinded_days", "open_label_days")
        if sum(getattr(self, k) for k in phases) > MAX_TRIAL_DAYS:
            key = max(phases, key=lambda k: getattr(self, k))
            others = sum(getattr(self, k) for k in phases if k != key)
            raise ValidationError(
                key, getattr(self, key),
                f"at most {MAX_TRIAL_DAYS - others} days: baseline, blinded and open-label "
                f"phases together at most {MAX_TRIAL_DAYS} days (10 years)",
            )  # fmt: skip
        if len(self.arms) < 1:
            raise ValidationError("arms", len(self.arms), "at least one arm")
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValidationError("arms", names, "unique arm names")
        if self.open_label_arm is not None and self.open_label_arm not in names:
            raise ValidationError(
                "open_label_arm", self.open_label_arm, "one of " + ", ".join(names)
            )
        actives = [a.protocol.max_current_mA for a in self.arms if a.kind == "active"]
        for i, arm in enumerate(self.arms):
            if arm.kind == "low_dose" and actives and arm.protocol.max_current_mA >= min(actives):
                raise ValidationError(
                    f"arms[{i}].protocol",
                    str(arm.protocol),
                    f"a maximum below the active arms' ({min(actives)} mA)",
                )
            for key in ("baseline_days", "blinded_days", "open_label_days"):
                v = getattr(arm.protocol, key)
                if v not in (0, getattr(self, key)):
                    raise ValidationError(
                        f"arms[{i}].protocol",
                        str(arm.protocol),
                        f"{key} unset or {getattr(self, key)} (the design's)",
                    )
            gen = self.generator_for(arm.name)
            try:
                check_modelled(gen, arm.lead or self.lead)
                catalogue.lead(self.lead_for(arm.name))
            except ValidationError as exc:
                where = f"arms[{i}].{exc.field}" if arm.generator or arm.lead else exc.field
                raise ValidationError(where, exc.value, exc.allowed) from None
            report = arm.protocol.check(gen, self.lead_for(arm.name))
            if not report.ok:
                raise safety.UnsafeSettingsError(report)
            if self.open_label_arm is not None and self.open_label_days:
                # the extension runs the open-label arm's protocol through this arm's device (a
                # sham device's patients get the open-label arm's device: extension_device_arm)
                ext = self.extension_device_arm(arm.name)
                crossover = self.arm(self.open_label_arm).protocol.check(
                    self.generator_for(ext), self.lead_for(ext)
                )
                if not crossover.ok:
                    raise safety.UnsafeSettingsError(crossover)
        if self.withdrawal is not None:
            if len(self.arms) != 2 or self.crossover is not None or self.interim is not None:
                raise ValidationError(
                    "withdrawal", "given",
                    "exactly two arms (continue, withdraw), no crossover and no interim",
                )  # fmt: skip
            if self.withdrawal.run_in_days + ENDPOINT_WINDOW_DAYS > self.blinded_days:
                raise ValidationError(
                    "withdrawal.run_in_days", self.withdrawal.run_in_days,
                    f"at most blinded_days − {ENDPOINT_WINDOW_DAYS} = "
                    f"{self.blinded_days - ENDPOINT_WINDOW_DAYS} (a withdrawal period of at "
                    "least the endpoint window)",
                )  # fmt: skip
        if self.interim is not None and (len(self.arms) < 2 or self.crossover is not None):
            raise ValidationError(
                "interim", "given", "a parallel design with at least two arms (no crossover)"
            )
        if self.crossover is not None:
            if len(self.arms) != 2:
                raise ValidationError(
                    "arms", len(self.arms), "exactly two arms (the treatments) in a crossover"
                )
            if self.blinded_days != self.crossover.total_days:
                raise ValidationError(
                    "blinded_days",
                    self.blinded_days,
                    f"{self.crossover.total_days} (2 periods of {self.crossover.period_days} days "
                    f"and a washout of {self.crossover.washout_days}) in this crossover",
                )
            kinds = {a.kind for a in self.arms}
            if "standard_of_care" in kinds:
                raise ValidationError(
                    "arms", sorted(kinds), "treatments with a device in a crossover"
                )
        if self.open_label_days and self.open_label_arm is None:
            raise ValidationError(
                "open_label_arm", None, "an arm name when open_label_days > 0: " + ", ".join(names)
            )
        return self

    @classmethod
    def default(cls) -> TrialDesign:
        """Implanted VNS to tolerance vs sham, 1:1, 12 weeks blinded, open label to 12 months."""
        return cls(
            arms=(
                Arm(name="active", kind="active", protocol=Protocol.parse(_DEFAULT_ACTIVE)),
                Arm(name="sham", kind="sham", protocol=Protocol.parse(_DEFAULT_SHAM)),
            ),
            open_label_arm="active",
        )

    @property
    def ratio(self) -> tuple[int, ...]:
        return tuple(a.ratio for a in self.arms)

    def arm(self, name: str) -> Arm:
        for a in self.arms:
            if a.name == name:
                return a
        raise ValidationError("arm", name, "one of " + ", ".join(a.name for a in self.arms))

    def extension_device_arm(self, arm: str) -> str:
        """The arm whose device ``arm``'s patients use in the open-label extension: their own,
        unless it is a sham device (catalogue ``sham``) or sits at the sham site (the earlobe),
        which is swapped for the open-label arm's device and electrode (as in ACT1, PREMIUM and
        EVENT, where everyone got an active device)."""
        if self.open_label_arm is None:
            return arm
        sham = is_sham_device(self.generator_for(arm), self.lead_for(arm))
        return self.open_label_arm if sham else arm

    def generator_for(self, arm: str) -> str:
        """Catalogue id of the arm's generator (its own, else the design's)."""
        return self.arm(arm).generator or self.generator

    def lead_for(self, arm: str) -> str:
        """Catalogue id of the arm's lead (its own, the design's, or the generator's default)."""
        a = self.arm(arm)
        chosen = a.lead or self.lead
        if chosen is not None:
            return catalogue.lead(chosen).id
        cat = catalogue.default_catalogue()
        return cat.default_lead(cat.generator(self.generator_for(arm))).id

    def protocol_for(self, arm: str) -> Protocol:
        """The arm's protocol with the design's phase lengths."""
        return self.arm(arm).protocol.model_copy(
            update={
                k: getattr(self, k) for k in ("baseline_days", "blinded_days", "open_label_days")
            }
        )

    def allocate(self, n_patients: int, rng: np.random.Generator) -> npt.NDArray[np.intp]:
        """Arm index per patient by permuted blocks of size ``sum(ratio)``."""
        if isinstance(n_patients, bool) or not isinstance(n_patients, int) or n_patients < 0:
            raise ValidationError("n_patients", n_patients, "a whole number ≥ 0")
        block = np.repeat(np.arange(len(self.arms)), self.ratio)
        n_blocks = -(-n_patients // block.size)
        blocks = np.tile(block, (n_blocks, 1))
        shuffled = rng.permuted(blocks, axis=1).ravel()[:n_patients]
        return shuffled.astype(np.intp)

    # -- TOML-friendly dicts ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "generator": self.generator,
            "baseline_days": self.baseline_days,
            "blinded_days": self.blinded_days,
            "open_label_days": self.open_label_days,
            "inclusion": self.inclusion.model_dump(exclude_none=True),
            "arms": [
                {"name": a.name, "kind": a.kind, "protocol": str(a.protocol), "ratio": a.ratio}
                | ({"generator": a.generator} if a.generator else {})
                | ({"lead": a.lead} if a.lead else {})
                | ({"expectation": a.expectation} if a.expectation is not None else {})
                | ({"implanted": a.implanted} if not a.implanted else {})
                for a in self.arms
            ],
        }
        if self.lead is not None:
            out["lead"] = self.lead
        if self.open_label_arm is not None:
            out["open_label_arm"] = self.open_label_arm
        if self.crossover is not None:
            out["crossover"] = self.crossover.model_dump()
        if self.interim is not None:
            out["interim"] = {k: v for k, v in self.interim.model_dump().items() if v is not None}
        if self.withdrawal is not None:
            out["withdrawal"] = self.withdrawal.model_dump()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialDesign:
        """Build from a dict (a parsed TOML table); errors name the key and the allowed values."""
        if not isinstance(data, dict):
            raise ValidationError("trial", type(data).__name__, "a table of trial settings")
        allowed_keys = set(cls.model_fields)
        for key in data:
            if key not in allowed_keys:
                raise ValidationError(
                    key, data[key], "a key among " + ", ".join(sorted(allowed_keys))
                )
        raw_arms = data.get("arms")
        if not isinstance(raw_arms, list):
            raise ValidationError(
                "arms", raw_arms, "a list of tables with name, kind, protocol, ratio"
            )
        arms = [_arm_from_dict(i, a) for i, a in enumerate(raw_arms)]
        tables = ("arms", "inclusion", "crossover", "interim", "withdrawal")
        fields = {k: v for k, v in data.items() if k not in tables}
        for name, model, table in (
            ("withdrawal", Withdrawal, None),
            ("interim", Interim, None),
            ("crossover", Crossover, "a table with period_days and washout_days"),
        ):
            if data.get(name) is not None:
                fields[name] = _sub_table(name, data[name], model, table)
        inclusion = data.get("inclusion", {})
        crit = _sub_table(
            "inclusion", inclusion, InclusionCriteria,
            "a table with " + ", ".join(InclusionCriteria.model_fields),
        )  # fmt: skip
        try:
            return cls.model_validate({**fields, "arms": arms, "inclusion": crit})
        except PydanticValidationError as exc:
            raise unwrap(exc, "") from None


_ARM_KEYS = ("name", "kind", "protocol", "ratio", "generator", "lead", "expectation", "implanted")


def _sub_table(name: str, raw: Any, model: type[M], table: str | None = None) -> M:
    """``[trial.<name>]`` as ``model``: refuses a non-table (``table`` says what is allowed)
    and unknown keys, naming them; the model's own errors come back under ``<name>.``."""
    keys = tuple(model.model_fields)
    if not isinstance(raw, dict):
        raise ValidationError(name, raw, table or "a table of " + ", ".join(keys))
    for key in raw:
        if key not in keys:
            raise ValidationError(f"{name}.{key}", raw[key], "one of " + ", ".join(keys))
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        raise unwrap(exc, f"{name}.") from None


def _arm_from_dict(i: int, data: Any) -> Arm:
    where = f"arms[{i}]"
    if not isinstance(data, dict):
        raise ValidationError(where, data, "a table with " + ", ".join(_ARM_KEYS))
    for key in data:
        if key not in _ARM_KEYS:
            raise ValidationError(f"{where}.{key}", data[key], "one of " + ", ".join(_ARM_KEYS))
    kind = data.get("kind")
    if kind not in ARM_KINDS:
        raise ValidationError(f"{where}.kind", kind, "one of " + ", ".join(ARM_KINDS))
    text = data.get("protocol")
    if not isinstance(text, str):
        raise ValidationError(
            f"{where}.protocol", text, "a protocol text such as " + repr(_DEFAULT_ACTIVE)
        )
    try:
        protocol = Protocol.parse(text)
    except ValidationError as exc:
        raise ValidationError(f"{where}.protocol", text, f"{exc.field}: {exc.allowed}") from None
    soc = kind == "standard_of_care"
    try:
        return Arm(
            name=data.get("name", ""),
            kind=kind,
            protocol=protocol,
            ratio=data.get("ratio", 1),
            generator=data.get("generator"),
            lead=data.get("lead"),
            expectation=data.get("expectation", 0.0 if soc else None),
            implanted=data.get("implanted", not soc),
        )
    except ValidationError as exc:
        raise ValidationError(f"{where}.{exc.field}", exc.value, exc.allowed) from None
    except PydanticValidationError as exc:
        raise unwrap(exc, f"{where}.") from None


__all__ = [
    "ARM_KINDS",
    "HEADACHE_CRITERIA",
    "MAX_TRIAL_DAYS",
    "Arm",
    "ArmKind",
    "Crossover",
    "InclusionCriteria",
    "TrialDesign",
]
