"""Every layer's loader uses the one provenance type and rule of :mod:`openvns.parameters`."""

from __future__ import annotations

import importlib
import importlib.util

import pytest
from pydantic import ValidationError as PydanticValidationError

from openvns.parameters import Provenance


def test_the_old_module_is_gone() -> None:
    assert importlib.util.find_spec("openvns.provenance") is None


def test_physiology_provenance_is_the_one_type() -> None:
    from openvns.physiology import provenance

    prov = provenance()
    assert prov
    assert all(type(p) is Provenance for p in prov.values())
    assert prov["f_opt_Hz"].status == "A"


def test_conditions_provenance_is_the_one_type() -> None:
    from openvns.patients import condition_names, provenance

    for name in (*condition_names(), "diary"):
        assert all(type(p) is Provenance for p in provenance(name).values())


def test_catalogue_provenance_is_the_one_type() -> None:
    from openvns.device import catalogue

    assert catalogue.Provenance is Provenance
    gen = catalogue.generator("1000")
    assert isinstance(gen.output.ramp_s, Provenance)  # Sourced is a Provenance
    assert gen.diagnostics is not None
    assert type(gen.diagnostics.zero_output_test_status) is Provenance
    assert gen.battery is not None
    assert type(gen.battery.anchors[0].settings_status) is Provenance
    assert type(gen.parameters["output_current_mA"].provenance) is Provenance
    with pytest.raises(PydanticValidationError, match="provisional"):
        catalogue.Sourced(value=1.0, status="NF", provisional=False, source="x")


def test_fibre_parameter_files_use_the_one_type() -> None:
    from openvns.nerve.fibres.parameters import SourcedValue, load

    entry = load("solver").entry("max_amplitude_mA")
    assert isinstance(entry, Provenance)
    assert entry.provisional
    with pytest.raises(PydanticValidationError, match="provisional"):
        SourcedValue(value=1.0, status="A", provisional=False, source="x")


def test_duplicate_classes_are_gone() -> None:
    from openvns.device import waveforms

    assert not hasattr(waveforms, "_SourcedRecharge")
    assert waveforms.WaveformParameters.default().recharge["implanted"] == "passive"


def test_layers_do_not_define_their_own_provenance() -> None:
    for module in (
        "openvns.device.catalogue",
        "openvns.physiology.parameters",
        "openvns.patients.conditions",
    ):
        mod = importlib.import_module(module)
        assert getattr(mod, "Provenance", Provenance) is Provenance, module


def test_nerve_data_files_use_the_one_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    from openvns.nerve import data_files

    bad = "schema: s/1\nversion: '1'\nx_um: {value: 1, status: A, provisional: false, source: s}\n"
    data_files.load.cache_clear()
    data_files.read_text.cache_clear()
    monkeypatch.setattr(data_files, "read_text", lambda name: bad)
    try:
        with pytest.raises(ValueError, match="status A must be flagged provisional"):
            data_files.load("anything.yaml")
    finally:
        data_files.load.cache_clear()
