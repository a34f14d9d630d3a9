"""Hypothesis strategies shared by the whole test suite.

Catalogue-aware strategies draw only what a generator can select (:func:`settings_for`,
:func:`selectable_values`); the others draw arbitrary input (:func:`any_settings`,
:func:`disallowed_values`) to check that the package refuses or flags it.
"""

from __future__ import annotations

from hypothesis import strategies as st

from openvns.device.catalogue import GeneratorModel, LeadModel, ParameterRange, default_catalogue
from openvns.device.settings import AutoStimSettings, MagnetSettings, StimulationSettings

#: Largest magnitude drawn by the "arbitrary" strategies (keeps sums and products finite).
ARBITRARY_MAX = 1e6

_CATALOGUE = default_catalogue()
_GENERATORS = tuple(_CATALOGUE.generators.values())
_HELICAL = tuple(ld for ld in _CATALOGUE.leads.values() if ld.kind == "helical")


def generators(*, implanted: bool | None = None) -> st.SearchStrategy[GeneratorModel]:
    """Catalogue generators; ``implanted=True/False`` restricts to (non-)implanted ones."""
    pool = [g for g in _GENERATORS if implanted is None or g.implanted == implanted]
    return st.sampled_from(pool)


def helical_leads() -> st.SearchStrategy[LeadModel]:
    """The helical cuff leads of the implanted generators (2 mm and 3 mm)."""
    return st.sampled_from(_HELICAL)


def leads_for(generator: GeneratorModel) -> st.SearchStrategy[LeadModel]:
    """Leads the generator accepts."""
    return st.sampled_from([_CATALOGUE.lead(lid) for lid in generator.leads])


def selectable_values(rng: ParameterRange) -> st.SearchStrategy[float]:
    """Values ``rng`` allows: its list or grid, or any float in a continuous range."""
    if rng.values is None and rng.step is None:
        return st.floats(rng.min, rng.max, allow_nan=False, allow_infinity=False)
    return st.sampled_from(rng.selectable())


def disallowed_values(rng: ParameterRange) -> st.SearchStrategy[float]:
    """Finite non-negative values that ``rng`` does not allow (out of range or off the grid)."""
    above = st.floats(rng.max * 1.001 + 1e-3, ARBITRARY_MAX, allow_nan=False)
    below = (
        st.floats(0.0, rng.min * 0.999, allow_nan=False, exclude_max=True)
        if rng.min > 0
        else st.nothing()
    )
    near_grid = st.floats(rng.min, rng.max, allow_nan=False)  # mostly off-grid for grids/lists
    return st.one_of(above, below, near_grid).filter(lambda x: not rng.allows(x))


def _arbitrary() -> st.SearchStrategy[float]:
    return st.floats(0.0, ARBITRARY_MAX, allow_nan=False, allow_infinity=False)


@st.composite
def settings_for(
    draw: st.DrawFn, generator: GeneratorModel, *, modes: bool = True
) -> StimulationSettings:
    """Settings made only of values ``generator`` can select.

    With ``modes``, magnet and AutoStim settings are drawn (or left unset) when the model has
    those features; they are never set on a model without them.
    """
    p = generator.parameters

    def val(name: str) -> float:
        return draw(selectable_values(p[name]))

    magnet = autostim = None
    if modes and generator.has("magnet") and draw(st.booleans()):
        magnet = MagnetSettings(
            output_current_mA=val("magnet_output_current_mA"),
            pulse_width_us=val("magnet_pulse_width_us"),
            on_time_s=val("magnet_on_time_s"),
        )
    if modes and generator.has("autostim") and draw(st.booleans()):
        autostim = AutoStimSettings(
            threshold_pct=val("autostim_threshold_pct"),
            output_current_mA=val("autostim_output_current_mA"),
            pulse_width_us=val("autostim_pulse_width_us"),
            on_time_s=val("autostim_on_time_s"),
            heartbeat_sensitivity=val("heartbeat_sensitivity"),
        )
    return StimulationSettings(
        output_current_mA=val("output_current_mA"),
        frequency_Hz=val("frequency_Hz"),
        pulse_width_us=val("pulse_width_us"),
        on_time_s=val("on_time_s"),
        off_time_min=val("off_time_min"),
        magnet=magnet,
        autostim=autostim,
    )


@st.composite
def any_settings(draw: st.DrawFn, *, modes: bool = False) -> StimulationSettings:
    """Settings of arbitrary finite non-negative floats (with optional mode settings)."""
    a = _arbitrary()
    magnet = autostim = None
    if modes and draw(st.booleans()):
        magnet = MagnetSettings(
            output_current_mA=draw(a), pulse_width_us=draw(a), on_time_s=draw(a)
        )
    if modes and draw(st.booleans()):
        autostim = AutoStimSettings(
            threshold_pct=draw(a),
            output_current_mA=draw(a),
            pulse_width_us=draw(a),
            on_time_s=draw(a),
            heartbeat_sensitivity=draw(a),
        )
    return StimulationSettings(
        output_current_mA=draw(a),
        frequency_Hz=draw(a),
        pulse_width_us=draw(a),
        on_time_s=draw(a),
        off_time_min=draw(a),
        magnet=magnet,
        autostim=autostim,
    )


@st.composite
def cycling_settings(draw: st.DrawFn) -> StimulationSettings:
    """Physically plausible ON/OFF cycling (not necessarily selectable on any model)."""
    return StimulationSettings(
        output_current_mA=draw(st.floats(0.05, 3.5)),
        frequency_Hz=draw(st.floats(1.0, 50.0)),
        pulse_width_us=draw(st.floats(50.0, 1000.0)),
        on_time_s=draw(st.floats(1.0, 120.0)),
        off_time_min=draw(st.floats(0.1, 180.0)),
    )
