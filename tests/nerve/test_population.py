"""The human cervical vagus population: parameters, reproducible sampling, weights."""

from __future__ import annotations

import numpy as np
import pytest

from openvns.errors import ValidationError
from openvns.nerve.population import (
    FibrePopulation,
    PopulationParameters,
    build_nerve,
    sample_population,
)
from tests.nerve.proxies import position_proxy_mA


@pytest.fixture(scope="module")
def pop() -> FibrePopulation:
    return sample_population(n_per_group=128, seed=3)


def test_default_parameters_match_reference() -> None:
    p = PopulationParameters.default()
    assert p.nerve_diameter_um == 2000
    assert p.n_fascicles == 7
    assert p.total_fibres == 23286
    assert sum(g.fraction for g in p.groups.values()) == pytest.approx(1.0, abs=1e-3)
    afferent = sum(g.fraction for g in p.groups.values() if g.afferent)
    assert afferent == pytest.approx(0.724, abs=1e-3)
    myelinated = sum(g.fraction for g in p.groups.values() if g.model in ("MRG", "PENA"))
    assert myelinated == pytest.approx(1 / 3, abs=1e-3)
    assert p.groups["C_efferent"].fraction == pytest.approx(0.144)
    assert p.groups["laryngeal_motor"].diameter_um.min == 5.0
    assert p.groups["cardiac_B"].diameter_um.max == 4.0


def test_nerve_layout_matches_reference_area() -> None:
    nerve = build_nerve(PopulationParameters.default(), seed=0)
    assert len(nerve.fascicles) == 7
    assert nerve.endoneurial_area_um2 == pytest.approx(1.32e6, rel=1e-9)


def test_sample_is_reproducible_and_seed_dependent(pop: FibrePopulation) -> None:
    again = sample_population(n_per_group=128, seed=3)
    other = sample_population(n_per_group=128, seed=4)
    assert np.array_equal(pop.x_um, again.x_um)
    assert np.array_equal(pop.diameter_um, again.diameter_um)
    assert not np.array_equal(pop.x_um, other.x_um)


def test_sample_contents(pop: FibrePopulation) -> None:
    p = PopulationParameters.default()
    assert len(pop) == 128 * len(p.groups)
    assert pop.weight.sum() == pytest.approx(p.total_fibres)
    for name, g in p.groups.items():
        idx = pop.indices(name)
        assert idx.size == 128
        d = pop.diameter_um[idx]
        assert d.min() >= g.diameter_um.min
        assert d.max() <= g.diameter_um.max
        assert set(pop.model[idx]) == {g.model}
        assert set(pop.afferent[idx]) == {g.afferent}
        assert pop.weight[idx].sum() == pytest.approx(p.count(name))
    assert np.all((pop.z_offset_frac >= 0) & (pop.z_offset_frac < 1))


def test_efferents_are_clustered(pop: FibrePopulation) -> None:
    motor = np.bincount(pop.fascicle[pop.indices("laryngeal_motor")], minlength=7)
    spread = np.bincount(pop.fascicle[pop.indices("C_afferent")], minlength=7)
    assert motor.max() / motor.sum() > 0.85
    assert spread.max() / spread.sum() < 0.4


def test_weighted_fraction(pop: FibrePopulation) -> None:
    mask = np.zeros(len(pop), dtype=bool)
    mask[pop.indices("cardiac_B")[:32]] = True
    assert pop.fraction(mask, "cardiac_B") == pytest.approx(0.25)
    assert pop.fraction(mask, "C_afferent") == 0.0
    with pytest.raises(ValidationError, match="group"):
        pop.fraction(mask, "gamma")
    with pytest.raises(ValidationError, match="shape"):
        pop.fraction(mask[:3], "cardiac_B")


def _max_fraction_error(small: FibrePopulation, big: FibrePopulation) -> float:
    tb, ts = position_proxy_mA(big), position_proxy_mA(small)
    worst = 0.0
    for g in big.groups:
        ib, is_ = big.indices(g), small.indices(g)
        grid = np.quantile(tb[ib], np.linspace(0.01, 0.99, 99))
        fb = (tb[ib][None, :] <= grid[:, None]).mean(axis=1)
        fs = (ts[is_][None, :] <= grid[:, None]).mean(axis=1)
        worst = max(worst, float(np.max(np.abs(fb - fs))))
    return worst


def test_weighted_fractions_converge_to_the_full_population() -> None:
    """Recruitment curves (threshold proxy) of small samples against a 16 384-per-group one.

    Measured (seed 0): max |Δ fraction| over 99 currents and 6 groups 8.8 % (64 per group),
    3.8 % (256), 2.1 % (512), 1.5 % (1024), 0.91 % (2048), 0.54 % (4096, the default size of a
    recruitment table's population): about n^-0.8, better than independent draws (~0.87/sqrt(n)).
    """
    big = sample_population(n_per_group=2**14, seed=0)
    sizes = (64, 512, 4096)
    errors = [_max_fraction_error(sample_population(n_per_group=n, seed=0), big) for n in sizes]
    assert errors[0] > errors[1] > errors[2]
    assert errors[1] < 0.03
    assert errors[2] < 0.01


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="n_per_group"):
        sample_population(n_per_group=0)
    with pytest.raises(ValidationError, match="seed"):
        sample_population(n_per_group=4, seed=-1)
    p = PopulationParameters.default()
    bad = p.model_dump()
    bad["groups"]["cardiac_B"]["fraction"] = 0.5
    with pytest.raises(ValueError, match="sum to"):
        PopulationParameters.model_validate(bad)
