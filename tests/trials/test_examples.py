"""The example trial configurations shipped in ``examples/trials``: each loads, round-trips,
documents what it mirrors, and runs with a few patients on the real recruitment tables of its
electrodes, delivering what its protocols say (currents relative to each patient's sensory
threshold, a 0 mA sham, the crossover's treatments period by period).

The tables of the skin electrodes take minutes to build; a test that would build one is skipped
with the reason (:func:`cached_recruitment`), never run on a stand-in.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openvns.device.catalogue import generator
from openvns.patients.attack_parameters import headache_conditions
from openvns.protocol.plans import ConstantCurrent, RelativeCurrent
from openvns.simulation.courses import Recruitment
from openvns.trials.config import TrialConfig, dumps_toml, load_config
from openvns.trials.crossover import crossover_periods
from openvns.trials.runner import TrialResult, run_trial

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "trials"
FILES = sorted(EXAMPLES.glob("*.toml"))
N_PER_ARM = 3


class _WouldBuildError(Exception):
    """Raised in place of a recruitment-table build."""


def cached_recruitment(lead: str) -> Recruitment | None:
    """The real recruitment of ``lead`` when its table is cached or shipped, else ``None``
    (the builder is refused: building a skin electrode's table takes minutes; a tree without
    the skin electrodes' models has none)."""
    import openvns.nerve.recruitment as cuff_tables
    from openvns.simulation.recruitment import default_recruitment

    try:
        import openvns.nerve.transcutaneous_tables as skin_tables
    except ImportError:  # the skin electrodes' tables are not in this tree
        return None

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise _WouldBuildError(lead)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(skin_tables, "sample_site_population", refuse)
        mp.setattr(cuff_tables, "sample_population", refuse)
        try:
            return default_recruitment(lead)
        except _WouldBuildError:
            return None


def run_example(path: Path, n_per_arm: int = N_PER_ARM) -> tuple[TrialConfig, TrialResult]:
    """Run an example with ``n_per_arm`` patients on its leads' real tables, or skip."""
    cfg = load_config(path)
    for arm in cfg.design.arms:
        lead = cfg.design.lead_for(arm.name)
        if cached_recruitment(lead) is None:
            pytest.skip(
                f"the recruitment table of {lead} is neither cached nor shipped (building it "
                "takes minutes; `openvns trial run --config` with an example on this lead "
                "builds and caches it) or has no model in this tree"
            )
    result = run_trial(
        cfg.design, n_per_arm=n_per_arm, root_seed=cfg.run.root_seed,
        parameters=cfg.model_parameters(),
    )  # fmt: skip
    return cfg, result


def test_there_is_an_example_for_every_device_condition_and_design() -> None:
    configs = [load_config(f) for f in FILES]
    generators = {cfg.design.generator_for(a.name) for cfg in configs for a in cfg.design.arms}
    assert generators >= {"gammacore-sapphire-cv", "gammacore-sham", "tavns-auricular", "nemos",
                          "parasym", "ravans"}  # fmt: skip
    leads = {cfg.design.lead_for(a.name) for cfg in configs for a in cfg.design.arms}
    assert leads >= {"gammacore-contacts", "ear-cymba-conchae", "ear-tragus", "ear-lobe"}
    conditions = {cfg.run.condition for cfg in configs}
    assert conditions >= {*headache_conditions(), "fibromyalgia", "functional_abdominal_pain"}
    kinds = {a.kind for cfg in configs for a in cfg.design.arms}
    assert kinds >= {"active", "sham", "standard_of_care"}
    assert any(cfg.design.crossover is not None for cfg in configs)
    assert any(a.protocol.max_current_mA == 0 and a.kind == "sham"
               for cfg in configs for a in cfg.design.arms)  # fmt: skip


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_example_round_trips(path: Path) -> None:
    cfg = load_config(path)
    again = TrialConfig.from_dict(tomllib.loads(dumps_toml(cfg.to_dict())))
    assert again == cfg
    assert again.to_dict() == cfg.to_dict()


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_example_header_says_what_it_mirrors(path: Path) -> None:
    text = path.read_text("utf-8")
    header = text.split("\n[", 1)[0]
    assert all(line.startswith("#") or not line.strip() for line in header.splitlines())
    assert re.search(r"#\s*Mirrors", header), "say which published trial it mirrors (or none)"
    assert "Simplifications" in header
    assert f"openvns trial run --config examples/trials/{path.name}" in header


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_example_runs_and_delivers_its_protocols(path: Path) -> None:
    cfg, result = run_example(path)
    d = cfg.design
    assert result.n_patients == N_PER_ARM * sum(d.ratio)
    summary = result.summary()
    assert (summary.headache is not None) == (cfg.run.condition in headache_conditions())
    if d.crossover is not None:
        assert crossover_periods(result).endpoint in ("pain", "attacks", "migraine_days",
                                                      "headache_days")  # fmt: skip
    # each arm's protocol in the blinded phase (each period's in a crossover), by day
    base = d.baseline_days
    windows = [(0, 0, d.blinded_days)] if d.crossover is None else [
        (0, *d.crossover.periods()[0]), (1, *d.crossover.periods()[1])
    ]  # fmt: skip
    rec = {a.name: cached_recruitment(d.lead_for(a.name)) for a in d.arms}
    for i in range(result.n_patients):
        own = int(result.arm[i])
        for period, start, end in windows:
            arm = d.arms[own if period == 0 else 1 - own]
            days = np.arange(base + start, base + end)
            alive = days[(result.dropout_day[i] < 0) | (days < result.dropout_day[i])]
            got = result.current_mA[i, alive]
            current = arm.protocol.current
            if isinstance(current, ConstantCurrent):
                expected = current.current_mA
            else:
                assert isinstance(current, RelativeCurrent)
                thr = rec[arm.name].sensory_threshold_mA(  # type: ignore[union-attr]
                    arm.protocol.stimulation.pulse_width_us
                )
                expected = min(current.multiple * thr * float(result.coupling[i]), current.max_mA)
                step = generator(d.generator_for(arm.name)).parameters["output_current_mA"].step
                if step:  # the device delivers its own steps: rounded down to one
                    expected = np.floor(expected / step + 1e-9) * step
            np.testing.assert_allclose(got, expected, rtol=1e-9, err_msg=f"{arm.name} #{i}")
        assert np.all(result.current_mA[i, :base] == 0)  # nothing at baseline
