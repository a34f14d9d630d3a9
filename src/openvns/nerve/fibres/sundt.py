"""The Sundt et al. (2015) unmyelinated C fibre as PyFibers builds it.

Equal compartments of ``compartment_length_um`` (8.333 µm), each with Traub–Miles Na, a
Borg-Graham delayed rectifier K and a leak to ``v_rest``; the extracellular layer is
short-circuited to the applied potential (``xg = 1e10``). A fibre of ``length_um`` has
``floor(length / Δz) + 1`` compartments (one fewer if that count is even: PyFibers keeps an odd
count); the first and last are passive. All numbers: ``data/sundt.yaml``.
"""

from __future__ import annotations

import math

import numpy as np

from openvns.errors import ValidationError
from openvns.nerve.fibres.model import ACTIVE_NODE, PASSIVE_NODE, Fiber, check_range, node_count
from openvns.nerve.fibres.parameters import load
from openvns.nerve.kernels.channels import sundt_params


def build_sundt(
    diameter_um: float,
    length_um: float | None = None,
    n_nodes: int | None = None,
    temperature_C: float = 37.0,
) -> Fiber:
    """A Sundt C fibre of ``length_um`` (µm) or ``n_nodes`` compartments (give one).

    Parameters
    ----------
    diameter_um
        Axon diameter, µm (``diameter_range_um`` of the data file).
    length_um, n_nodes
        Fibre length in µm, or the number of compartments (odd, ≥ 3).
    temperature_C
        Temperature, °C.
    """
    f = load("sundt")
    lo, hi = f.array("diameter_range_um")
    d = check_range("diameter_um", diameter_um, lo, hi, "µm for the Sundt C fibre")
    temp = check_range("temperature_C", temperature_C, 0.0, 50.0, "°C")
    dz = f.get("compartment_length_um")
    if (length_um is None) == (n_nodes is None):
        raise ValidationError("length_um", length_um, "exactly one of length_um and n_nodes")
    if length_um is not None:
        length = check_range("length_um", length_um, 3 * dz, 1e7, "µm")
        n = node_count(math.floor(length / dz) + 1)
    else:
        n = node_count(n_nodes)
    pe = "passive_end_node."
    n_passive = int(f.get(pe + "count"))
    kind = np.full(n, ACTIVE_NODE, dtype=np.int64)
    kind[:n_passive] = PASSIVE_NODE
    kind[n - n_passive :] = PASSIVE_NODE
    active = kind == ACTIVE_NODE
    gbar = np.zeros((n, 3))
    gbar[active, 0] = f.get("nahh.gnabar_S_cm2")
    gbar[active, 1] = f.get("borgkdr.gkdrbar_S_cm2")
    v_rest = f.get("v_rest_mV")
    return Fiber(
        model="C",
        diameter_um=d,
        temperature_C=temp,
        myelinated=False,
        v_rest_mV=v_rest,
        delta_z_um=dz,
        node_indices=np.arange(n, dtype=np.int64),
        kind=kind,
        L_um=np.full(n, dz),
        diam_um=np.full(n, d),
        Ra_ohm_cm=np.where(active, f.get("axial_resistivity_ohm_cm"), f.get(pe + "Ra_ohm_cm")),
        cm_uF_cm2=np.where(active, f.get("cm_uF_cm2"), f.get(pe + "cm_uF_cm2")),
        g_leak_S_cm2=np.where(active, f.get("g_pas_S_cm2"), f.get(pe + "g_S_cm2")),
        e_leak_mV=np.full(n, v_rest),
        xraxial_Mohm_cm=np.full(n, f.get("xraxial_Mohm_cm")),
        xg_S_cm2=np.full(n, f.get("xg_S_cm2")),
        xc_uF_cm2=np.zeros(n),
        channels="sundt",
        gbar_S_cm2=gbar,
        channel_params=sundt_params(temp),
        parameters_version=f.version,
        extra={"n_passive_end_nodes": n_passive},
    )
