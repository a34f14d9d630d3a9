"""Constants of the virtual implant that the reference does not give (``data/implant.yaml``).

Each value in the data file has a status and a source; those with status A are assumptions of
OpenVNS and flagged provisional. Nothing here is a manufacturer specification.

Examples
--------
>>> from openvns.device.implant import implant_constants
>>> implant_constants().history_min_magnet_activations
15
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from pydantic import Field

from openvns import yamlio
from openvns.base import FrozenModel
from openvns.device.catalogue import Sourced


class ImplantConstants(FrozenModel):
    """Assumed constants of :class:`~openvns.device.generator.PulseGenerator`.

    Attributes
    ----------
    autostim_background_window_s
        Length of the window before each heart-rate sample whose median is the background
        heart rate of AutoStim detection, in s.
    autostim_holdoff_s
        Extra refractory time after an AutoStim train has ended, in s.
    heart_rate_min_bpm, heart_rate_max_bpm
        Range of detected heart rates accepted as input, in beats/min.
    history_max_events
        Number of events kept in the device history.
    history_min_magnet_activations
        Most recent magnet activations that are always kept in the history (S4 p45: 15).
    """

    autostim_background_window_s: float = Field(gt=0)
    autostim_holdoff_s: float = Field(ge=0)
    heart_rate_min_bpm: float = Field(gt=0)
    heart_rate_max_bpm: float = Field(gt=0)
    history_max_events: int = Field(gt=0)
    history_min_magnet_activations: int = Field(ge=0)


def load_implant_constants(text: str) -> ImplantConstants:
    """Parse ``data/implant.yaml``-style text; every value must carry its provenance."""
    raw = yamlio.safe_load(text)
    if not isinstance(raw, dict):
        raise ValueError("implant constants must be a YAML mapping")
    values: dict[str, float | bool] = {}
    for name in ImplantConstants.model_fields:
        values[name] = Sourced.model_validate(raw[name]).value
    return ImplantConstants.model_validate(values)


@lru_cache(maxsize=1)
def implant_constants() -> ImplantConstants:
    """The constants shipped with OpenVNS (``openvns/device/data/implant.yaml``)."""
    text = resources.files("openvns.device").joinpath("data/implant.yaml").read_text("utf-8")
    return load_implant_constants(text)


__all__ = ["ImplantConstants", "implant_constants", "load_implant_constants"]
