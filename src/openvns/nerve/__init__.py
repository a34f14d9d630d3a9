"""The nerve layer: which vagal fibres fire for a given electrode, waveform and current.

The public API, importable from here (``from openvns.nerve import build_fiber``):

- fibres: :func:`build_fiber`, :class:`Fiber`, :data:`FIBER_MODELS`;
- electrodes and geometry: :class:`PointSource`, :class:`HelicalCuff`, :class:`Nerve`,
  :class:`Fascicle`;
- field: :class:`AnalyticField` (``AnalyticField(PointSource(...), Medium.isotropic(0.3))``,
  ``AnalyticField.cuff(HelicalCuff.from_lead("2mm"))``), :class:`Medium`,
  :class:`ExternalPotentials` (potentials from elsewhere, e.g. FEM);
- thresholds: :func:`find_thresholds`, :class:`ThresholdResult`, :func:`strength_duration`,
  :func:`chronaxie`;
- population: :class:`PopulationParameters` (``PopulationParameters.default()`` is the human left
  cervical vagus), :func:`load_parameters`, :func:`sample_population`, :class:`FibrePopulation`;
- recruitment: :func:`build_recruitment_table`, :class:`RecruitmentTable`,
  :func:`coupling_factor`;
- skin electrodes of the non-invasive devices: :class:`LayeredMedium`, :class:`LayeredField`,
  :class:`SurfaceContact`, :class:`SurfaceElectrode` (field on layered tissue),
  :func:`lead_geometry`, :func:`sample_site_population`, :func:`physiology_map`,
  :func:`sensory_threshold_mA`, :func:`build_transcutaneous_table` (docs/noninvasive-nerve.md).

The names are imported on first use (PEP 562), so ``import openvns.nerve`` stays cheap: the
fibre models compile numba kernels and the population pulls in scipy only when they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openvns.nerve.fibres import FIBER_MODELS, Fiber, build_fiber
    from openvns.nerve.field import AnalyticField, ExternalPotentials, Medium
    from openvns.nerve.geometry import Fascicle, HelicalCuff, Nerve, PointSource
    from openvns.nerve.layered import (
        LayeredField,
        LayeredMedium,
        SurfaceContact,
        SurfaceElectrode,
    )
    from openvns.nerve.population import (
        FibrePopulation,
        PopulationParameters,
        load_parameters,
        sample_population,
    )
    from openvns.nerve.recruitment import (
        RecruitmentTable,
        build_recruitment_table,
        coupling_factor,
    )
    from openvns.nerve.threshold import (
        ThresholdResult,
        chronaxie,
        find_thresholds,
        strength_duration,
    )
    from openvns.nerve.transcutaneous import (
        lead_geometry,
        physiology_map,
        sample_site_population,
        sensory_threshold_mA,
    )
    from openvns.nerve.transcutaneous_tables import build_transcutaneous_table

#: Public name -> the submodule that defines it.
_WHERE: dict[str, str] = {
    "FIBER_MODELS": "fibres",
    "Fiber": "fibres",
    "build_fiber": "fibres",
    "AnalyticField": "field",
    "ExternalPotentials": "field",
    "Medium": "field",
    "Fascicle": "geometry",
    "HelicalCuff": "geometry",
    "Nerve": "geometry",
    "PointSource": "geometry",
    "FibrePopulation": "population",
    "PopulationParameters": "population",
    "load_parameters": "population",
    "sample_population": "population",
    "RecruitmentTable": "recruitment",
    "build_recruitment_table": "recruitment",
    "coupling_factor": "recruitment",
    "ThresholdResult": "threshold",
    "chronaxie": "threshold",
    "find_thresholds": "threshold",
    "strength_duration": "threshold",
    "LayeredField": "layered",
    "LayeredMedium": "layered",
    "SurfaceContact": "layered",
    "SurfaceElectrode": "layered",
    "lead_geometry": "transcutaneous",
    "physiology_map": "transcutaneous",
    "sample_site_population": "transcutaneous",
    "sensory_threshold_mA": "transcutaneous",
    "build_transcutaneous_table": "transcutaneous_tables",
}

__all__ = [
    "FIBER_MODELS",
    "AnalyticField",
    "ExternalPotentials",
    "Fascicle",
    "Fiber",
    "FibrePopulation",
    "HelicalCuff",
    "LayeredField",
    "LayeredMedium",
    "Medium",
    "Nerve",
    "PointSource",
    "PopulationParameters",
    "RecruitmentTable",
    "SurfaceContact",
    "SurfaceElectrode",
    "ThresholdResult",
    "build_fiber",
    "build_recruitment_table",
    "build_transcutaneous_table",
    "chronaxie",
    "coupling_factor",
    "find_thresholds",
    "lead_geometry",
    "load_parameters",
    "physiology_map",
    "sample_population",
    "sample_site_population",
    "sensory_threshold_mA",
    "strength_duration",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
