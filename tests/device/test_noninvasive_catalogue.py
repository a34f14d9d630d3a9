"""The non-invasive devices of the catalogue: cervical nVNS and its sham, auricular stimulators."""

from __future__ import annotations

import pytest

from openvns.device import catalogue
from openvns.device.catalogue import default_catalogue
from openvns.device.safety import check
from openvns.device.settings import StimulationSettings as S
from openvns.errors import UnknownModelError

CAT = default_catalogue()
AURICULAR = sorted(g.id for g in CAT.generators.values() if g.kind.endswith("_auricular"))
SKIN_LEADS = ("gammacore-contacts", "ear-cymba-conchae", "ear-tragus", "ear-lobe")


def test_the_devices_and_leads_of_issue_11_are_listed() -> None:
    assert {"gammacore-sapphire-cv", "gammacore-sham", "tavns-auricular", "nemos", "parasym",
            "ravans", "ib-stim"} <= set(CAT.generators)  # fmt: skip
    assert set(SKIN_LEADS) | {"ear-percutaneous"} <= set(CAT.leads)


@pytest.mark.parametrize(
    ("lead_id", "site"),
    [
        ("gammacore-contacts", "neck"),
        ("ear-cymba-conchae", "cymba_conchae"),
        ("ear-tragus", "tragus"),
        ("ear-lobe", "earlobe"),
        ("ear-percutaneous", "auricle"),
        ("304-20", "cervical_vagus"),
    ],
)
def test_each_lead_says_where_it_sits(lead_id: str, site: str) -> None:
    assert catalogue.lead(lead_id).site == site


def test_ear_clip_is_an_alias_of_the_tragus_electrode() -> None:
    assert catalogue.lead("ear-clip").id == "ear-tragus"
    assert catalogue.lead("EAR-CLIP").id == "ear-tragus"
    assert catalogue.lead("earlobe").id == "ear-lobe"
    with pytest.raises(UnknownModelError) as info:
        catalogue.lead("ear-helix")
    assert "ear-clip" in info.value.allowed


def test_skin_leads_have_no_published_area_and_say_why() -> None:
    for lead_id in SKIN_LEADS:
        lead = catalogue.lead(lead_id)
        assert lead.kind == "skin"
        assert lead.contact_area_cm2 is None
        assert "NF" in lead.source
    assert catalogue.lead("ear-percutaneous").kind == "percutaneous"


@pytest.mark.parametrize("gen_id", AURICULAR)
def test_every_auricular_device_allows_a_0_mA_sham(gen_id: str) -> None:
    gen = catalogue.generator(gen_id)
    assert gen.parameters["output_current_mA"].allows(0.0)
    p = gen.parameters
    s = S(
        output_current_mA=0.0,
        frequency_Hz=p["frequency_Hz"].min,
        pulse_width_us=p["pulse_width_us"].min,
        on_time_s=p["on_time_s"].min,
        off_time_min=p["off_time_min"].max,
    )
    for lead_id in gen.leads:
        report = check(s, gen, lead_id)
        assert report.ok, report.errors
        assert "output_off" in {i.code for i in report.notes}


def test_auricular_devices_can_stimulate_at_the_earlobe_sham_site_where_studies_did() -> None:
    for gen_id in ("tavns-auricular", "nemos", "parasym", "ravans"):
        assert "ear-lobe" in catalogue.generator(gen_id).leads
    assert catalogue.generator("ib-stim").leads == ("ear-percutaneous",)


def test_gammacore_sham_is_the_active_device_at_low_frequency_without_the_burst() -> None:
    active = catalogue.generator("gammacore-sapphire-cv")
    sham = catalogue.generator("gammacore-sham")
    assert sham.kind == active.kind == "noninvasive_cervical"
    assert sham.leads == active.leads == ("gammacore-contacts",)
    assert sham.burst is None
    assert active.burst is not None
    assert sham.parameters["frequency_Hz"].values == (0.1,)
    assert sham.parameters["frequency_Hz"].provisional  # 0.1 Hz is recalled
    assert sham.parameters["output_current_mA"].max == active.parameters["output_current_mA"].max
    assert sham.dose is not None
    assert active.dose is not None
    assert sham.dose.max_per_day.value == active.dose.max_per_day.value == 30
    assert "biphasic" in sham.parameters["frequency_Hz"].source


def test_published_gammacore_limits() -> None:
    gc = catalogue.generator("gammacore-sapphire-cv")
    assert gc.parameters["output_current_mA"].max == 60.0
    assert gc.compliance_voltage_V == 24.0
    assert gc.parameters["off_time_min"].step is None  # any spacing between doses


def test_only_ravans_gates_on_exhalation() -> None:
    gated = {g.id for g in CAT.generators.values() if g.has("exhalation_gating")}
    assert gated == {"ravans"}
    ravans = catalogue.generator("ravans")
    assert ravans.parameters["frequency_Hz"].values == (2.0, 10.0, 25.0, 100.0)
    assert ravans.parameters["pulse_width_us"].values == (300.0, 450.0)


def test_nemos_frequencies_are_those_of_straube_2015() -> None:
    nemos = catalogue.generator("nemos")
    assert nemos.parameters["frequency_Hz"].values == (1.0, 25.0)
    assert "STRAUBE2015" in nemos.parameters["frequency_Hz"].source
    assert "STRAUBE2015" in CAT.sources


def test_every_source_id_a_noninvasive_device_cites_is_listed() -> None:
    ids = [k for k in CAT.sources if k.isupper() or k.startswith("S")]
    for gen_id in ("gammacore-sham", "nemos", "ravans", "ib-stim", "parasym"):
        gen = catalogue.generator(gen_id)
        cited = {i for i in ids if i in gen.source}
        assert cited, gen_id


def test_percutaneous_device_has_a_waveform_and_no_burst() -> None:
    from openvns.device.waveforms import waveform_for

    s = S(output_current_mA=1.0, frequency_Hz=10, pulse_width_us=1000, on_time_s=30,
          off_time_min=0)  # fmt: skip
    shape = waveform_for(s, "ib-stim")
    assert shape.is_charge_balanced
    assert shape.charge_per_phase_uC(1.0) == pytest.approx(1.0)  # 1 mA x 1 ms
