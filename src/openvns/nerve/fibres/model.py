"""The :class:`Fiber`: one straight fibre as a chain of cable sections.

A fibre is a list of sections (one compartment each, ``nseg = 1`` as in PyFibers), each with
its length, diameter, axial resistivity, membrane capacitance and leak, and the properties of
the periaxonal layer that makes the double cable (``xraxial``, ``xg``, ``xc`` of NEURON's
``extracellular`` mechanism, layer 0). Active sections carry ion channels (``channels`` names the
kinetics; ``gbar_S_cm2`` their maximal conductances) whose temperature-adjusted constants are in
``channel_params``. Builders live in :mod:`~openvns.nerve.fibres.mrg` and
:mod:`~openvns.nerve.fibres.sundt`; :func:`openvns.nerve.fibres.build_fiber` picks one by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from openvns.errors import ValidationError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Channels = Literal["axnode", "sundt"]

#: Section kinds (``Fiber.kind``).
PASSIVE_NODE, ACTIVE_NODE, MYSA, FLUT, STIN = 0, 1, 2, 3, 4


@dataclass(frozen=True, eq=False)
class Fiber:
    """A straight fibre along z, built by :func:`~openvns.nerve.fibres.build_fiber`.

    Attributes
    ----------
    model
        Canonical model name (``"MRG"``, ``"MRG_DISCRETE"``, ``"PENA"``, ``"C"``).
    diameter_um, temperature_C
        Fibre diameter (µm; outer, myelin included) and temperature (°C).
    myelinated
        Whether the fibre is myelinated (double cable with myelin) or not.
    v_rest_mV
        Resting potential the fibre is initialised to, mV.
    delta_z_um
        Node-to-node distance (internodal length; compartment length for C), µm.
    node_indices
        Section indices of the nodes of Ranvier (every section for C).
    kind
        Per section: 0 passive end node, 1 active node, 2 MYSA, 3 FLUT, 4 STIN.
    L_um, diam_um
        Section length and diameter, µm.
    Ra_ohm_cm, cm_uF_cm2
        Axial resistivity (Ω·cm) and membrane capacitance (µF/cm²) per section.
    g_leak_S_cm2, e_leak_mV
        Linear leak conductance (S/cm²) and its reversal potential (mV).
    xraxial_Mohm_cm, xg_S_cm2, xc_uF_cm2
        Periaxonal layer: longitudinal resistance per length (MΩ/cm), and conductance (S/cm²)
        and capacitance (µF/cm²) of the myelin (or the short circuit at nodes) to the outside.
    channels
        Kinetics of the active sections: ``"axnode"`` (MRG node) or ``"sundt"``.
    gbar_S_cm2
        ``(n_sections, 3)`` maximal channel conductances (zero for passive sections).
    channel_params
        Temperature-adjusted kinetic constants, in the order of
        :mod:`openvns.nerve.kernels.channels`.
    parameters_version
        Version of the parameter file the fibre was built from.
    """

    model: str
    diameter_um: float
    temperature_C: float
    myelinated: bool
    v_rest_mV: float
    delta_z_um: float
    node_indices: IntArray
    kind: IntArray
    L_um: FloatArray
    diam_um: FloatArray
    Ra_ohm_cm: FloatArray
    cm_uF_cm2: FloatArray
    g_leak_S_cm2: FloatArray
    e_leak_mV: FloatArray
    xraxial_Mohm_cm: FloatArray
    xg_S_cm2: FloatArray
    xc_uF_cm2: FloatArray
    channels: Channels
    gbar_S_cm2: FloatArray
    channel_params: FloatArray
    parameters_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("node_indices", "kind", "L_um", "diam_um", "gbar_S_cm2", "channel_params"):
            getattr(self, name).setflags(write=False)
        for name in ("Ra_ohm_cm", "cm_uF_cm2", "g_leak_S_cm2", "e_leak_mV"):
            getattr(self, name).setflags(write=False)
        for name in ("xraxial_Mohm_cm", "xg_S_cm2", "xc_uF_cm2"):
            getattr(self, name).setflags(write=False)

    @property
    def n_sections(self) -> int:
        """Number of sections (compartments)."""
        return int(self.L_um.size)

    @property
    def z_um(self) -> FloatArray:
        """Section centres along the axis, µm (the fibre starts at 0; PyFibers' coordinates)."""
        ends = np.cumsum(self.L_um)
        return ends - 0.5 * self.L_um

    @property
    def length_um(self) -> float:
        """End-to-end length, µm (sum of the section lengths)."""
        return float(np.sum(self.L_um))

    @property
    def area_um2(self) -> FloatArray:
        """Lateral area of each section, µm² (π d L)."""
        return math.pi * self.diam_um * self.L_um

    @property
    def active(self) -> NDArray[np.bool_]:
        """Sections with ion channels."""
        return np.asarray(self.kind == ACTIVE_NODE, dtype=np.bool_)

    def node_index_at(self, location: float) -> int:
        """Index into :attr:`node_indices` of the node nearest ``location`` (0–1), as PyFibers.

        PyFibers' ``loc_index`` truncates ``location * (n_nodes - 1)``; a location outside
        [0, 1] raises :class:`~openvns.errors.ValidationError`.
        """
        if not (isinstance(location, int | float) and 0.0 <= float(location) <= 1.0):
            raise ValidationError("ap_detect_location", location, "a number in [0, 1]")
        return int(float(location) * (self.node_indices.size - 1))


def check_range(field_name: str, value: Any, lo: float, hi: float, unit: str) -> float:
    """``value`` as a float if finite and within ``[lo, hi]``, else a ValidationError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(field_name, value, f"a finite number in [{lo:g}, {hi:g}] {unit}")
    if not lo <= float(value) <= hi:
        raise ValidationError(field_name, value, f"[{lo:g}, {hi:g}] {unit}")
    return float(value)


def node_count(n_nodes: Any) -> int:
    """Validated odd node count ≥ 3 (PyFibers enforces an odd count by dropping one)."""
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, int | np.integer) or n_nodes < 3:
        raise ValidationError("n_nodes", n_nodes, "an integer >= 3")
    n = int(n_nodes)
    return n - 1 if n % 2 == 0 else n
