"""Analytic test doubles for thresholds (bookkeeping tests only, not a model of the product).

* :func:`position_proxy_mA` — a cheap threshold from a fibre's distance to the cuff wall, its
  angle, diameter and node alignment, for sampling-convergence tests of whole populations.
* :class:`ProxyFiber`, :func:`proxy_build_fiber`, :func:`rattay_thresholds` — a stand-in for
  ``openvns.nerve.fibres.build_fiber`` and ``openvns.nerve.threshold.find_thresholds`` with the
  same signatures: nodes every ``100 * diameter`` µm, and a threshold from Rattay's activating
  function (the second difference of the potential over the nodes) with a Lapicque
  strength–duration factor: ``I_th = K (1 + chronaxie / pw) / max(-Δ²Ve)``. Bigger fibres (longer
  internodes) and closer fibres see larger second differences, so they have lower thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from openvns.device.waveforms import PulseShape
from openvns.nerve.population import FibrePopulation

#: Depolarisation (mV of second difference per node) at which the proxy fibre fires.
K_MV = 12.0
#: Chronaxie of the proxy fibres, µs.
CHRONAXIE_US = {"MRG": 150.0, "PENA": 150.0, "C": 800.0}


def position_proxy_mA(pop: FibrePopulation) -> np.ndarray:
    dist = pop.nerve.radius_um - np.hypot(pop.x_um, pop.y_um)
    ang = np.arctan2(pop.y_um, pop.x_um)
    align = 1.0 + 0.2 * np.cos(2 * np.pi * pop.z_offset_frac)
    return (
        (0.05 + (dist / 400.0) ** 2) * (1.0 + 0.3 * np.cos(ang)) * (6.0 / pop.diameter_um) * align
    )


@dataclass(frozen=True)
class ProxyFiber:
    model: str
    diameter_um: float
    z_um: np.ndarray
    node_indices: np.ndarray
    delta_z_um: float

    @property
    def n_sections(self) -> int:
        return int(self.z_um.size)


def proxy_build_fiber(
    model: str, *, diameter_um: float, n_nodes: int | None = None, length_um: float | None = None
) -> ProxyFiber:
    dz = 100.0 * diameter_um if model in ("MRG", "PENA") else 50.0
    n = n_nodes if n_nodes is not None else round((length_um or 10000.0) / dz) + 1
    z = np.arange(n) * dz
    return ProxyFiber(model, diameter_um, z, np.arange(n), dz)


@dataclass(frozen=True)
class ProxyResult:
    threshold_mA: np.ndarray


CALLS: list[dict[str, Any]] = []


def rattay_thresholds(
    fiber: ProxyFiber, ve_mV_per_mA: np.ndarray, waveform: PulseShape, **settings: Any
) -> ProxyResult:
    CALLS.append({"n": ve_mV_per_mA.shape[0], "pw": waveform.phase_width_us, **settings})
    ve = np.asarray(ve_mV_per_mA)[:, fiber.node_indices]
    af = ve[:, :-2] - 2 * ve[:, 1:-1] + ve[:, 2:]
    # cathodic first phase (amplitude < 0) depolarises where the second difference is < 0
    drive = np.max(af * np.sign(waveform.segments[0].amplitude_mA), axis=1)
    drive = np.maximum(drive, 1e-9)
    sd = 1.0 + CHRONAXIE_US[fiber.model] / waveform.phase_width_us
    return ProxyResult(K_MV * sd / drive)
