"""The side-effect parameter set: a frozen, validated view of ``data/side_effects.yaml``.

One :class:`ChannelParameters` per side effect of :data:`SIDE_EFFECTS` (the fibres that drive
it, onset, episode length, background and post-operative rates, habituation, between-patient
spread, intolerable level) and the settings every channel shares. Names are flat and dotted,
``"cough.onset_per_d"`` or ``"common.report_probability"``, as ``openvns params show
side_effects`` lists them; :meth:`SideEffectParameters.with_` changes any of them.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from openvns.errors import ValidationError
from openvns.parameters import load_set
from openvns.parameters.constraints import FRACTION, NON_NEGATIVE, POSITIVE

__all__ = [
    "DRIVERS",
    "N_LEGACY_CHANNELS",
    "SIDE_EFFECTS",
    "SKIN_ONLY",
    "ChannelParameters",
    "CommonSideEffectParameters",
    "SideEffectParameters",
    "load_side_effect_parameters",
]

#: The side-effect channels, in the order of every ``(channels, patients)`` array.
SIDE_EFFECTS = (
    "voice",
    "cough",
    "throat_pain",
    "dyspnoea",
    "laryngismus",
    "dysphagia",
    "neck_pain",
    "headache",
    "paraesthesia",
    "nausea",
    "heart_rate",
    "application_site",
    "dizziness",
    "muscle_twitch",
)
#: Channels of the skin under a non-invasive electrode: they occur only where one is worn (an
#: implant's patients have none).
SKIN_ONLY = ("application_site", "muscle_twitch")
#: The channels before the non-invasive devices' (issue 11): each patient's standard normals of
#: these (and the nocebo trait) are drawn first, so adding channels kept every earlier draw.
N_LEGACY_CHANNELS = 11
#: Fibre groups (``openvns.physiology.drive.GROUPS`` names) a channel's drive can weigh.
DRIVERS = (
    "laryngeal_motor",
    "A_afferent",
    "Adelta_afferent",
    "cardiac_B",
    "cutaneous_Abeta",
    "cutaneous_Adelta",
    "muscle_motor",
)


class ChannelParameters(BaseModel):
    """One side effect: what drives it, how it starts, lasts, habituates and is tolerated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    w_laryngeal_motor: float = NON_NEGATIVE
    w_A_afferent: float = NON_NEGATIVE
    w_Adelta_afferent: float = NON_NEGATIVE
    w_cardiac_B: float = NON_NEGATIVE
    w_heart_rate_per_pct: float = NON_NEGATIVE
    w_cutaneous_Abeta: float = NON_NEGATIVE
    w_cutaneous_Adelta: float = NON_NEGATIVE
    w_muscle_motor: float = NON_NEGATIVE
    drive50: float = POSITIVE
    reference_duty: float = Field(gt=0, le=1)
    f50_Hz: float = POSITIVE
    onset_per_d: float = NON_NEGATIVE
    episode_d: float = Field(ge=1)
    background_per_d: float = NON_NEGATIVE
    surgical_per_d: float = NON_NEGATIVE
    Tmax: float = FRACTION
    tau_hab_d: float = POSITIVE
    omega_susceptibility: float = NON_NEGATIVE
    intolerable: float = POSITIVE


class CommonSideEffectParameters(BaseModel):
    """Settings every channel shares (see the data file's header for the model)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_drive: float = POSITIVE
    surgical_decay_d: float = POSITIVE
    omega_nocebo: float = NON_NEGATIVE
    report_probability: float = FRACTION
    moderate_at: float = POSITIVE
    severe_at: float = POSITIVE
    background_intensity: float = NON_NEGATIVE


class SideEffectParameters(BaseModel):
    """Every side-effect channel of :data:`SIDE_EFFECTS` and their common settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = "custom"
    common: CommonSideEffectParameters
    channels: dict[str, ChannelParameters]

    def model_post_init(self, context: Any, /) -> None:
        names = tuple(self.channels)
        if names != SIDE_EFFECTS:
            raise ValidationError("channels", list(names), "exactly " + ", ".join(SIDE_EFFECTS))
        for ch in SKIN_ONLY:
            if self.channels[ch].surgical_per_d != 0:
                raise ValidationError(
                    f"{ch}.surgical_per_d",
                    self.channels[ch].surgical_per_d,
                    "0 (a skin channel occurs only under a skin electrode: no operation)",
                )
        if self.common.severe_at <= self.common.moderate_at:
            raise ValidationError(
                "common.severe_at",
                self.common.severe_at,
                f"> moderate_at ({self.common.moderate_at})",
            )

    # ------------------------------------------------------------------ flat, dotted names
    def flat(self) -> dict[str, Any]:
        """Every value by its dotted name (``"cough.onset_per_d"``, ``"common.n_drive"``)."""
        out: dict[str, Any] = {f"common.{k}": v for k, v in self.common.model_dump().items()}
        for ch, cp in self.channels.items():
            out.update({f"{ch}.{k}": v for k, v in cp.model_dump().items() if k != "label"})
        return out

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every parameter name (dotted) this set owns."""
        common = tuple(f"common.{k}" for k in CommonSideEffectParameters.model_fields)
        per = tuple(
            f"{ch}.{k}" for ch in SIDE_EFFECTS for k in ChannelParameters.model_fields
            if k != "label"
        )  # fmt: skip
        return common + per

    def with_(self, **changes: Any) -> SideEffectParameters:
        """A copy with dotted ``changes`` applied (``with_(**{"cough.onset_per_d": 0.02})``)."""
        common = self.common.model_dump()
        channels = {ch: cp.model_dump() for ch, cp in self.channels.items()}
        for key, value in changes.items():
            head, _, tail = key.partition(".")
            if head == "common" and tail in common:
                common[tail] = value
            elif head in channels and tail in channels[head] and tail != "label":
                channels[head][tail] = value
            else:
                raise ValidationError(
                    key, value, "a side-effect parameter 'channel.name' or 'common.name' "
                    f"(channels: {', '.join(SIDE_EFFECTS)})",
                )  # fmt: skip
        return self.from_values({"version": self.version, "common": common, "channels": channels})

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> SideEffectParameters:
        """Validate nested ``values``; errors name the dotted key, the value and the rule."""
        try:
            return cls.model_validate(values)
        except PydanticValidationError as exc:
            err = exc.errors()[0]
            loc = [str(p) for p in err["loc"] if str(p) != "channels"]
            raise ValidationError(
                ".".join(loc) or "side_effects", err.get("input"), err["msg"]
            ) from None

    # ---------------------------------------------------------------- arrays over channels
    def column(self, name: str) -> NDArray[np.float64]:
        """``(len(SIDE_EFFECTS), 1)`` values of a per-channel parameter, for broadcasting."""
        return self._columns[name]

    @cached_property
    def _columns(self) -> dict[str, NDArray[np.float64]]:
        keys = [k for k in ChannelParameters.model_fields if k != "label"]
        return {
            k: np.array([getattr(self.channels[ch], k) for ch in SIDE_EFFECTS], dtype=np.float64)[
                :, None
            ]
            for k in keys
        }

    @cached_property
    def resolve_probability(self) -> NDArray[np.float64]:
        """``(channels, 1)`` daily probability that a present episode ends (``1 − e^(−1/d)``)."""
        return np.asarray(-np.expm1(-1.0 / self.column("episode_d")), dtype=np.float64)

    @cached_property
    def report_below_if_present(self) -> NDArray[np.float64]:
        """``(channels, 1)`` a present effect that stays is reported when its day's draw is below
        this: ``p_resolve + report_probability (1 − p_resolve)``."""
        p = self.resolve_probability
        return np.asarray(p + self.common.report_probability * (1.0 - p), dtype=np.float64)

    @cached_property
    def skin_rows(self) -> NDArray[np.intp]:
        """Row indices (in :data:`SIDE_EFFECTS` order) of the channels that need a skin
        electrode (:data:`SKIN_ONLY`)."""
        return np.array([SIDE_EFFECTS.index(ch) for ch in SKIN_ONLY], dtype=np.intp)

    @cached_property
    def weights(self) -> NDArray[np.float64]:
        """``(len(SIDE_EFFECTS), len(DRIVERS))`` fibre-group weights of each channel's drive."""
        return np.hstack([self.column(f"w_{g}") for g in DRIVERS])


@lru_cache(maxsize=1)
def load_side_effect_parameters() -> SideEffectParameters:
    """The shipped set (``openvns params show side_effects``), checked and cached."""
    s = load_set("side_effects")
    common: dict[str, Any] = {}
    channels: dict[str, dict[str, Any]] = {}
    for name, value in s.values().items():
        parts = name.split(".")
        if parts[0] == "common":
            common[parts[1]] = value
        elif parts[0] == "channels":
            channels.setdefault(parts[1], {})[parts[2]] = value
        else:
            raise ValidationError(name, value, "an entry under 'common' or 'channels'")
    return SideEffectParameters.from_values(
        {"version": s.version, "common": common, "channels": channels}
    )
