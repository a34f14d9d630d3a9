"""Mesh convergence of the finite-element cuff model (issue 14; docs/nerve.md, "Mesh
convergence"): the thresholds of the 14 probe fibres change by less than the documented bound
when every spacing near the cuff shrinks by a quarter."""

from __future__ import annotations

import numpy as np
import pytest

from openvns.nerve.fem.convergence import (
    REFINEMENT,
    TOLERANCE,
    probe_points,
    probe_thresholds,
    refined,
)
from openvns.nerve.fem.cuff_model import Tissues
from openvns.nerve.geometry import HelicalCuff
from openvns.nerve.population import PopulationParameters, build_nerve


def test_a_refinement_step_shrinks_the_spacings_near_the_cuff() -> None:
    t = Tissues.default()
    r = refined(t)
    for name in ("h_nerve_um", "h_wall_um", "h_z_contact_um", "h_fascicle_ring_um"):
        assert getattr(r, name) == pytest.approx(REFINEMENT * getattr(t, name))
    assert (r.h_outer_um, r.h_z_max_um, r.growth) == (t.h_outer_um, t.h_z_max_um, t.growth)
    x, y = probe_points(build_nerve(PopulationParameters.default(), 0))
    assert len(x) == len(y) == 14  # two per fascicle of the default nerve


@pytest.mark.slow
def test_the_default_mesh_is_converged_to_the_documented_bound() -> None:
    """Default mesh against one refinement step (about 6 min on two cores)."""
    nerve = build_nerve(PopulationParameters.default(), 0)
    cuff = HelicalCuff.from_lead("2mm")
    t = Tissues.default()
    coarse, _ = probe_thresholds(nerve, cuff, t)
    fine, _ = probe_thresholds(nerve, cuff, refined(t))
    change = np.abs(coarse / fine - 1.0)
    assert change.max() < TOLERANCE, np.round(100 * change, 2).tolist()
