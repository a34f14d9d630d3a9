"""MRG myelinated double-cable fibres: interpolated (2–16 µm), small-fibre (Peña) and discrete.

Each internode is node, MYSA, FLUT, six STIN, FLUT, MYSA (11 sections), one compartment each,
as in McIntyre, Richardson & Grill (2002) and PyFibers. Every section's ``diam`` is the fibre
diameter ``D`` (so that the myelin's ``xg``/``xc`` per area apply to the outer surface) except the
node's, and the axial resistivity, capacitance and leak of the MYSA/FLUT/STIN are scaled by the
inner-to-outer diameter ratio (the PyFibers/ASCENT convention). The periaxonal space of width
``w`` around an inner diameter ``d`` has ``xraxial = ρ / (π ((d/2 + w)² − (d/2)²))``. The myelin
sheath of ``nl`` lamellae (two membranes each) has ``xc = mycm / 2nl`` and ``xg = mygm / 2nl``.
The first and last nodes are passive (PyFibers' default). All numbers: ``data/mrg.yaml``.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from openvns.errors import ValidationError
from openvns.nerve.fibres.model import (
    ACTIVE_NODE,
    FLUT,
    MYSA,
    PASSIVE_NODE,
    STIN,
    Fiber,
    check_range,
    node_count,
)
from openvns.nerve.fibres.parameters import load
from openvns.nerve.kernels.channels import axnode_params

logger = logging.getLogger(__name__)

_MODELS = ("MRG", "PENA", "MRG_DISCRETE")


def _geometry(model: str, d: float) -> dict[str, float]:
    """Node/MYSA/FLUT/STIN geometry (µm) and lamellae of a ``d`` µm fibre of ``model``."""
    f = load("mrg")
    if model == "MRG":
        lo, hi = f.array("interpolation.diameter_range_um")
        check_range("diameter_um", d, lo, hi, "µm for the MRG interpolation model")
        p = "interpolation."
        below = d < f.get(p + "delta_z_breakpoint_um")
        dz = np.polyval(f.array(p + ("delta_z_um_below" if below else "delta_z_um_above")), d)
        return {
            "delta_z": float(dz),
            "flut_length": float(np.polyval(f.array(p + "flut_length_um"), d)),
            "nl": float(np.polyval(f.array(p + "lamellae"), d)),
            "node_diam": float(np.polyval(f.array(p + "node_diameter_um"), d)),
            "axon_diam": float(np.polyval(f.array(p + "axon_diameter_um"), d)),
        }
    if model == "PENA":
        p = "small_interpolation."
        lo, hi = f.array(p + "diameter_range_um")
        check_range("diameter_um", d, lo, hi, "µm for the small-fibre (Peña) MRG model")
        if d > f.get(p + "recommended_max_um"):
            logger.warning(
                "PENA model is not recommended above %g µm", f.get(p + "recommended_max_um")
            )
        axon = float(np.polyval(f.array(p + "axon_diameter_um"), d))
        return {
            "delta_z": float(np.polyval(f.array(p + "delta_z_um"), d)),
            "flut_length": float(np.polyval(f.array(p + "flut_length_um"), d)),
            "nl": float(math.trunc(float(np.polyval(f.array(p + "lamellae_of_axon"), axon)))),
            "node_diam": float(np.polyval(f.array(p + "node_diameter_of_axon_um"), axon)),
            "axon_diam": axon,
        }
    table = f.array("discrete.diameter_um")
    hits = np.flatnonzero(np.isclose(table, d, rtol=0.0, atol=1e-9))
    if isinstance(d, bool) or not math.isfinite(d) or hits.size == 0:
        raise ValidationError("diameter_um", d, f"one of {', '.join(f'{x:g}' for x in table)} µm")
    k = int(hits[0])
    return {
        "delta_z": float(f.array("discrete.delta_z_um")[k]),
        "flut_length": float(f.array("discrete.flut_length_um")[k]),
        "nl": float(f.array("discrete.lamellae")[k]),
        "node_diam": float(f.array("discrete.node_diameter_um")[k]),
        "axon_diam": float(f.array("discrete.axon_diameter_um")[k]),
    }


def _periaxonal_Mohm_cm(rho_ohm_cm: float, inner_um: float, space_um: float) -> float:
    """Longitudinal resistance per length of an annulus, MΩ/cm (ρ in Ω·cm, sizes in µm)."""
    annulus_um2 = math.pi * ((inner_um / 2 + space_um) ** 2 - (inner_um / 2) ** 2)
    return rho_ohm_cm * 1e8 / annulus_um2 * 1e-6  # Ω·cm / cm² -> Ω/cm -> MΩ/cm


def build_mrg(
    model: str, diameter_um: float, n_nodes: int = 101, temperature_C: float = 37.0
) -> Fiber:
    """An MRG fibre of ``n_nodes`` nodes (odd; an even count drops one, as PyFibers).

    Parameters
    ----------
    model
        ``"MRG"`` (interpolation, 2–16 µm), ``"PENA"`` (small-fibre interpolation, 1.011–16 µm)
        or ``"MRG_DISCRETE"`` (the 11 tabulated diameters).
    diameter_um
        Fibre diameter, µm.
    n_nodes
        Number of nodes of Ranvier, ≥ 3.
    temperature_C
        Temperature, °C (scales the node kinetics).
    """
    if model not in _MODELS:
        raise ValidationError("model", model, f"one of {', '.join(_MODELS)}")
    d = check_range("diameter_um", diameter_um, 0.0, math.inf, "µm")
    temp = check_range("temperature_C", temperature_C, 0.0, 50.0, "°C")
    n_nodes = node_count(n_nodes)
    geo = _geometry(model, d)
    f = load("mrg")
    rho = f.get("axial_resistivity_ohm_cm")
    v_rest = f.get("v_rest_mV")
    node_len = f.get("node_length_um")
    mysa_len = f.get("mysa_length_um")
    n_stin = int(f.get("stin_per_internode"))
    stin_len = (geo["delta_z"] - node_len - 2 * mysa_len - 2 * geo["flut_length"]) / n_stin
    if stin_len <= 0:
        raise ValidationError("diameter_um", diameter_um, "a diameter with a positive STIN length")
    sheath_c = f.get("lamella_cm_uF_cm2") / (2 * geo["nl"])
    sheath_g = f.get("lamella_g_S_cm2") / (2 * geo["nl"])
    nd, ad = geo["node_diam"], geo["axon_diam"]
    cm_axolemma = f.get("internode_cm_uF_cm2")

    # one internode pattern: (kind, L, diam, Ra, cm, g, xraxial, xg, xc)
    def myelin(kind: int, length: float, inner: float, g: float, space: float) -> tuple[float, ...]:
        ratio = inner / d
        return (kind, length, d, rho / ratio**2, cm_axolemma * ratio, g * ratio,
                _periaxonal_Mohm_cm(rho, inner, space), sheath_g, sheath_c)  # fmt: skip

    mysa = myelin(MYSA, mysa_len, nd, f.get("mysa_g_S_cm2"), f.get("periaxonal_space_mysa_um"))
    flut = myelin(FLUT, geo["flut_length"], ad, f.get("flut_stin_g_S_cm2"),
                  f.get("periaxonal_space_flut_um"))  # fmt: skip
    stin = myelin(STIN, stin_len, ad, f.get("flut_stin_g_S_cm2"), f.get("periaxonal_space_stin_um"))
    x_node = _periaxonal_Mohm_cm(rho, nd, f.get("periaxonal_space_node_um"))
    node = (ACTIVE_NODE, node_len, nd, rho, f.get("node_cm_uF_cm2"), f.get("axnode.gl_S_cm2"),
            x_node, f.get("node_xg_S_cm2"), 0.0)  # fmt: skip
    pe = "passive_end_node."
    passive = (PASSIVE_NODE, node_len, nd, f.get(pe + "Ra_ohm_cm"), f.get(pe + "cm_uF_cm2"),
               f.get(pe + "g_S_cm2"), x_node, f.get("node_xg_S_cm2"), 0.0)  # fmt: skip
    n_passive = int(f.get(pe + "count"))
    rows: list[tuple[float, ...]] = []
    for k in range(n_nodes):
        rows.append(passive if (k < n_passive or k >= n_nodes - n_passive) else node)
        if k < n_nodes - 1:
            rows.extend([mysa, flut] + [stin] * n_stin + [flut, mysa])
    table = np.array(rows, dtype=np.float64)
    kind = table[:, 0].astype(np.int64)
    active = kind == ACTIVE_NODE
    e_leak = np.where(active, f.get("axnode.el_mV"), v_rest)
    gbar = np.zeros((kind.size, 3))
    gnabar = f.get("small_interpolation.gnabar_S_cm2" if model == "PENA" else "axnode.gnabar_S_cm2")
    gkbar = f.get("small_interpolation.gkbar_S_cm2" if model == "PENA" else "axnode.gkbar_S_cm2")
    gbar[active] = (f.get("axnode.gnapbar_S_cm2"), gnabar, gkbar)
    return Fiber(
        model=model,
        diameter_um=d,
        temperature_C=temp,
        myelinated=True,
        v_rest_mV=v_rest,
        delta_z_um=geo["delta_z"],
        node_indices=np.flatnonzero(kind <= ACTIVE_NODE).astype(np.int64),
        kind=kind,
        L_um=table[:, 1].copy(),
        diam_um=table[:, 2].copy(),
        Ra_ohm_cm=table[:, 3].copy(),
        cm_uF_cm2=table[:, 4].copy(),
        g_leak_S_cm2=table[:, 5].copy(),
        e_leak_mV=e_leak,
        xraxial_Mohm_cm=table[:, 6].copy(),
        xg_S_cm2=table[:, 7].copy(),
        xc_uF_cm2=table[:, 8].copy(),
        channels="axnode",
        gbar_S_cm2=gbar,
        channel_params=axnode_params(temp),
        parameters_version=f.version,
        extra={"geometry": geo, "n_passive_end_nodes": n_passive},
    )
