"""The parameters of one run: physiology, side effects, the patient's condition and the diary,
one owner each.

:class:`ModelParameters` bundles the four parameter sets a simulation reads. Every name has
exactly one owner (a test checks the sets are disjoint), so :meth:`ModelParameters.with_` routes
each change to it; a name no set owns, or one the daily model does not use, is refused, so a
sweep either changes the run or fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from openvns.errors import ValidationError
from openvns.patients.conditions import (
    Condition,
    DiaryParameters,
    load_condition,
    load_diary_parameters,
)
from openvns.physiology.parameters import (
    PhysiologyParameters,
    load_parameters,
    unused_parameters,
)
from openvns.physiology.side_effect_parameters import (
    SideEffectParameters,
    load_side_effect_parameters,
)

__all__ = ["ModelParameters"]

#: Fields of a condition that name it rather than parameterise it.
_CONDITION_LABELS = ("name", "label", "physiology_overrides")


@dataclass(frozen=True)
class ModelParameters:
    """Physiology, condition and diary parameter sets of a run.

    Attributes
    ----------
    physiology
        Population parameters of the VNS → pain model (``openvns params show physiology``).
    condition
        The patients' condition: baseline pain, fluctuation, placebo, flares, responder mixture
        (``openvns params show conditions/fibromyalgia``).
    diary
        How patients report (missing entries, device placebo, PGIC, BPI).
    side_effects
        The side-effect channels (``openvns params show side_effects``); names are dotted,
        ``"cough.onset_per_d"``.
    """

    physiology: PhysiologyParameters
    condition: Condition
    diary: DiaryParameters
    side_effects: SideEffectParameters = field(default_factory=load_side_effect_parameters)

    @classmethod
    def default(cls, condition: str | Condition = "fibromyalgia") -> ModelParameters:
        """The shipped parameter sets for ``condition``, with the physiology values its
        ``overrides`` table sets (visibly, each with a source; none shipped today)."""
        cond = load_condition(condition) if isinstance(condition, str) else condition
        physiology = load_parameters()
        if cond.physiology_overrides:  # the condition's table says so, with a source each
            try:
                physiology = physiology.with_(**cond.physiology_overrides)
            except ValidationError as exc:
                raise ValidationError(
                    f"{cond.name}.overrides.{exc.field}", exc.value, exc.allowed
                ) from None
        return cls(physiology, cond, load_diary_parameters(), load_side_effect_parameters())

    @classmethod
    def for_patient(cls, patient: str) -> ModelParameters:
        """The shipped parameter sets for a named patient's condition (``"crps#0007"``)."""
        from openvns.patients.cohort import parse_patient_name

        return cls.default(parse_patient_name(patient)[0])

    @staticmethod
    def owners() -> dict[str, str]:
        """Every parameter name a run uses, with the set that owns it."""
        out: dict[str, str] = {}
        unused = unused_parameters()
        sets: tuple[tuple[str, type[Any], tuple[str, ...]], ...] = (
            ("physiology", PhysiologyParameters, ("version", *sorted(unused))),
            ("condition", Condition, _CONDITION_LABELS),
            ("diary", DiaryParameters, ()),
        )
        for owner, model, skip in sets:
            for name in model.model_fields:
                if name not in skip:
                    out[name] = owner
        for name in SideEffectParameters.names():
            out[name] = "side_effects"
        return out

    def with_(self, **changes: Any) -> ModelParameters:
        """A copy with each change applied to the set that owns the name.

        Raises
        ------
        ValidationError
            A name no set owns, a name the model does not use, or a value the owner refuses.
        """
        owners = self.owners()
        routed: dict[str, dict[str, Any]] = {
            "physiology": {}, "condition": {}, "diary": {}, "side_effects": {}
        }  # fmt: skip
        for key, value in changes.items():
            if key in unused_parameters():
                raise ValidationError(
                    key, value, "a parameter the daily model uses; it is documented only"
                )
            owner = owners.get(key)
            if owner is None:
                raise ValidationError(
                    key, value, "a parameter of physiology, side effects, the condition or the "
                    "diary: "
                    + ", ".join(sorted(owners))
                )  # fmt: skip
            routed[owner][key] = value
        out = self
        if routed["physiology"]:
            out = replace(out, physiology=out.physiology.with_(**routed["physiology"]))
        if routed["condition"]:
            out = replace(out, condition=out.condition.with_(**routed["condition"]))
        if routed["diary"]:
            out = replace(out, diary=out.diary.with_(**routed["diary"]))
        if routed["side_effects"]:
            out = replace(out, side_effects=out.side_effects.with_(**routed["side_effects"]))
        return out

    def value(self, name: str) -> Any:
        """The value of ``name`` in the set that owns it."""
        owner = self.owners().get(name)
        if owner is None:
            raise ValidationError("name", name, "a parameter name: " + ", ".join(self.owners()))
        if owner == "side_effects":
            return self.side_effects.flat()[name]
        return getattr(getattr(self, owner), name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able values of the three sets (what a run's configuration hash records)."""
        return {
            "physiology": self.physiology.model_dump(mode="json"),
            "condition": self.condition.model_dump(mode="json"),
            "diary": self.diary.model_dump(mode="json"),
            "side_effects": self.side_effects.model_dump(mode="json"),
        }
