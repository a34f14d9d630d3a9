"""Mesh convergence of the finite-element cuff model: thresholds of probe fibres on two meshes.

The probe fibres (docs/nerve.md, "Mesh convergence"): MRG fibres of :data:`PROBE_DIAMETER_UM`
at the centre of every fascicle of the nerve and at :data:`PROBE_EDGE_FRACTION` of its radius
from the centre towards the nerve's surface (the side nearest the cuff), 14 for the default
human nerve of seed 0 (7 fascicles), each centred on the cuff, with the recruitment table's
symmetric biphasic pulse of :data:`PROBE_PULSE_WIDTH_US`. A refinement step multiplies every
mesh spacing that resolves the gaps between the silicone's turns and the nerve
(``h_nerve_um``, ``h_wall_um``, ``h_z_contact_um``, ``h_fascicle_ring_um``) by
:data:`REFINEMENT`; the spacing along the wall's rings (``h_wall_arc_um``), the 20 µm rings of
the saline layer and the far field are not refined (``h_wall_arc_um`` alone moves the probes by
about 0.2 % on such a step: docs/nerve.md).

    .venv/bin/python tools/fem_thresholds.py --convergence
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from openvns.nerve.fem.cuff_model import StageCallback, Tissues, cuff_field
from openvns.nerve.geometry import HelicalCuff, Nerve

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "PROBE_DIAMETER_UM",
    "PROBE_EDGE_FRACTION",
    "PROBE_PULSE_WIDTH_US",
    "REFINEMENT",
    "TOLERANCE",
    "probe_points",
    "probe_thresholds",
    "refined",
]

#: Fibre diameter of the probes (µm): a laryngeal-motor-sized MRG fibre.
PROBE_DIAMETER_UM = 5.7
#: Where the second probe of a fascicle sits: this fraction of the fascicle's radius out.
PROBE_EDGE_FRACTION = 0.7
#: Pulse width of the probes' thresholds (µs), the reference width of the tables.
PROBE_PULSE_WIDTH_US = 250.0
#: Factor on the mesh spacings near the cuff of one refinement step.
REFINEMENT = 0.75
#: Documented bound on the probes' largest relative threshold change over one refinement step
#: of the default mesh (docs/nerve.md; tests/nerve/test_fem_convergence.py).
TOLERANCE = 0.01


def refined(tissues: Tissues, factor: float = REFINEMENT) -> Tissues:
    """``tissues`` with the spacings in the nerve, the cuff's wall and along the helices (and
    the fascicles' perineurium rings) times ``factor``."""
    return replace(
        tissues,
        h_nerve_um=tissues.h_nerve_um * factor,
        h_wall_um=tissues.h_wall_um * factor,
        h_z_contact_um=tissues.h_z_contact_um * factor,
        h_fascicle_ring_um=tissues.h_fascicle_ring_um * factor,
    )


def probe_points(nerve: Nerve) -> tuple[FloatArray, FloatArray]:
    """``(x_um, y_um)`` of the probe fibres: every fascicle's centre, then its outer probe."""
    xs = np.array([f.x_um for f in nerve.fascicles])
    ys = np.array([f.y_um for f in nerve.fascicles])
    r = np.hypot(xs, ys)
    ux, uy = xs / np.maximum(r, 1e-9), ys / np.maximum(r, 1e-9)
    rad = np.array([math.sqrt(f.rx_um * f.ry_um) for f in nerve.fascicles])
    x = np.concatenate([xs, xs + PROBE_EDGE_FRACTION * rad * ux])
    y = np.concatenate([ys, ys + PROBE_EDGE_FRACTION * rad * uy])
    return x, y


def probe_thresholds(
    nerve: Nerve, cuff: HelicalCuff, tissues: Tissues, *, stage: StageCallback | None = None
) -> tuple[FloatArray, int]:
    """Thresholds (mA) of the probe fibres in the model's field, and the mesh's node count."""
    from openvns.device.waveforms import biphasic
    from openvns.nerve.fibres import build_fiber
    from openvns.nerve.threshold import find_thresholds

    fibre = build_fiber("MRG", PROBE_DIAMETER_UM)
    z = fibre.z_um - fibre.length_um / 2 + cuff.z_center_um
    model = cuff_field(nerve, cuff, tissues, stage=stage)
    x, y = probe_points(nerve)
    result = find_thresholds(fibre, model.potentials(x, y, z), biphasic(PROBE_PULSE_WIDTH_US))
    return np.asarray(result.threshold_mA, dtype=np.float64), len(model.mesh.points_um)
