"""Recruitment on an imported cross-section: fibres in its fascicles, its digest in the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from openvns.errors import ValidationError
from openvns.nerve import recruitment
from openvns.nerve.geometry import Fascicle, Nerve
from openvns.nerve.population import sample_population
from openvns.nerve.segmented import load_section, write_masks
from tests.nerve import proxies

#: Two fascicles in a 1.9 mm nerve, unlike any sampled layout (its masks, read back, still fit
#: the 2 mm cuff).
SECTION = Nerve(
    1900.0,
    (
        Fascicle.circle(-420.0, 100.0, 700.0),
        Fascicle(420.0, -150.0, 380.0, 260.0, 25.0, angle_deg=30.0),
    ),
)


def test_sampled_fibres_lie_in_the_given_sections_fascicles() -> None:
    pop = sample_population(n_per_group=64, seed=3, nerve=SECTION)
    assert pop.nerve is SECTION
    assert set(np.unique(pop.fascicle)) == {0, 1}
    for k, fas in enumerate(SECTION.fascicles):
        sel = pop.fascicle == k
        assert np.all(fas.contains(pop.x_um[sel], pop.y_um[sel]))
    # the same seed without a section samples its own layout (more fascicles)
    assert len(sample_population(n_per_group=8, seed=3).nerve.fascicles) != 2


def _build(cache: Path, **kw: Any) -> recruitment.RecruitmentTable:
    return recruitment.build_recruitment_table(
        "2mm", n_per_group=8, pulse_widths_us=(250.0,), threshold_fn=proxies.rattay_thresholds,
        fiber_builder=proxies.proxy_build_fiber, cache_dir=cache, field="analytic", **kw,
    )  # fmt: skip


def test_a_section_changes_the_tables_key_and_thresholds(tmp_path: Path) -> None:
    own = _build(tmp_path)
    given = _build(tmp_path, nerve=SECTION)
    assert given.key != own.key
    assert given.metadata["inputs"]["nerve"] == SECTION.digest()
    assert "nerve" not in own.metadata["inputs"]  # the default keys are unchanged
    assert not np.array_equal(given.thresholds_mA, own.thresholds_mA)
    again = _build(tmp_path, nerve=SECTION)  # read back from the cache under the same key
    assert again.key == given.key
    np.testing.assert_array_equal(again.thresholds_mA, given.thresholds_mA)


def test_a_skin_electrode_refuses_a_section() -> None:
    with pytest.raises(ValidationError, match="nerve"):
        recruitment.build_recruitment_table("ear-tragus", nerve=SECTION)


def test_cli_recruit_reads_a_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openvns.cli.main import app

    folder = tmp_path / "sample"
    folder.mkdir()
    write_masks(SECTION, folder, 4.0)
    seen: list[Any] = []
    real = recruitment.build_recruitment_table

    def build(lead: str, **kwargs: Any) -> Any:
        seen.append(kwargs["nerve"])
        kwargs.update(
            threshold_fn=proxies.rattay_thresholds,
            field="analytic",
            fiber_builder=proxies.proxy_build_fiber,
            pulse_widths_us=(250.0,),
        )
        return real(lead, **kwargs)

    monkeypatch.setattr(recruitment, "build_recruitment_table", build)
    args = ["nerve", "recruit", "--section", str(folder), "--n-per-group", "8", "--json",
            "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(seen) == 1
    assert len(seen[0].fascicles) == 2
    assert seen[0].digest() == load_section(folder).digest()
    assert json.loads(result.stdout)["lead"] == "2mm"
    bad = CliRunner().invoke(app, ["nerve", "recruit", "--scale", "2"])
    assert bad.exit_code != 0
    assert "scale" in bad.output
