"""Surrogate-built recruitment tables against per-fibre thresholds of the same function.

The threshold function is the analytic proxy of tests/nerve/proxies.py (Rattay activating
function with a Lapicque factor); the reference evaluates it on every fibre's own node geometry
(no diameter bins), so the difference is the surrogate's error alone. Sampling error of the
population (4096 per group against 16 384) is tested in test_population.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openvns.nerve.field import AnalyticField
from openvns.nerve.geometry import HelicalCuff
from openvns.nerve.population import FibrePopulation, sample_population
from openvns.nerve.recruitment import RecruitmentTable, build_recruitment_table
from openvns.nerve.surrogate import fit_surrogate, second_difference_features
from tests.nerve import proxies

CLINICAL_MA = np.linspace(0.0, 3.5, 351)
PWS = (130.0, 250.0, 1000.0)


def exact_proxy_thresholds(pop: FibrePopulation, pw_us: float) -> np.ndarray:
    """The proxy threshold of every fibre on its own geometry (reference, no bins)."""
    from openvns.device.waveforms import biphasic

    fld = AnalyticField.cuff(HelicalCuff.from_lead("2mm"))
    out = np.empty(len(pop))
    for model in ("MRG", "PENA", "C"):
        idx = np.flatnonzero(pop.model == model)
        if model in ("MRG", "PENA"):
            n, dz = 101, 100.0 * pop.diameter_um[idx]
        else:
            n, dz = 401, np.full(idx.size, 50.0)
        k = np.arange(n) - (n - 1) / 2.0
        zoff = pop.z_offset_frac[idx] if model in ("MRG", "PENA") else np.zeros(idx.size)
        z = (k[None, :] + zoff[:, None]) * dz[:, None]
        ve = fld.potentials(pop.x_um[idx], pop.y_um[idx], z)
        fiber = proxies.proxy_build_fiber(model, diameter_um=1.0, n_nodes=n)
        out[idx] = proxies.rattay_thresholds(fiber, ve, biphasic(pw_us)).threshold_mA
    return out


def max_fraction_error(table: RecruitmentTable, ref: dict[float, np.ndarray],
                       pop: FibrePopulation) -> float:  # fmt: skip
    worst = 0.0
    for pw, thr in ref.items():
        for g in table.groups:
            idx = pop.indices(g)
            want = (thr[idx][None, :] <= CLINICAL_MA[:, None]).mean(axis=1)
            got = np.asarray(table.fraction(g, CLINICAL_MA, pw))
            worst = max(worst, float(np.max(np.abs(got - want))))
    return worst


def _table(tmp: Path, n: int) -> RecruitmentTable:
    return build_recruitment_table(
        n_per_group=n,
        pulse_widths_us=PWS,
        threshold_fn=proxies.rattay_thresholds,
        fiber_builder=proxies.proxy_build_fiber,
        cache_dir=tmp,
        field="analytic",
    )


def test_surrogate_fractions_match_per_fibre_thresholds(tmp_path: Path) -> None:
    n = 256
    table = _table(tmp_path, n)
    pop = sample_population(n_per_group=n, seed=0)
    ref = {pw: exact_proxy_thresholds(pop, pw) for pw in PWS}
    assert max_fraction_error(table, ref, pop) < 0.01
    report = table.metadata["surrogate"]
    assert set(report) == {"MRG", "PENA", "C"}
    assert report["MRG"]["250"]["loo_rms_log"] < 0.01


@pytest.mark.slow
def test_default_size_table_within_1pct_of_a_4x_larger_reference(tmp_path: Path) -> None:
    """Default population size (4096 per group) against 16 384 per group, per-fibre proxy."""
    table = _table(tmp_path, 4096)
    big = sample_population(n_per_group=16384, seed=0)
    ref = {pw: exact_proxy_thresholds(big, pw) for pw in PWS}
    worst = 0.0
    for pw, thr in ref.items():
        for g in table.groups:
            idx = big.indices(g)
            want = (thr[idx][None, :] <= CLINICAL_MA[:, None]).mean(axis=1)
            got = np.asarray(table.fraction(g, CLINICAL_MA, pw))
            worst = max(worst, float(np.max(np.abs(got - want))))
    assert worst < 0.01


def test_fit_surrogate_recovers_a_power_law() -> None:
    rng = np.random.default_rng(0)
    f = rng.normal(size=(40, 3))
    thr = np.exp(0.5 - 0.9 * f[:, 0] + 0.2 * f[:, 2])
    s = fit_surrogate(f, thr)
    assert s.loo_rms < 1e-6
    assert np.allclose(s.predict(f), thr)
    thr[3] = np.inf  # not activated: left out
    assert fit_surrogate(f, thr).n_design == 39


def test_second_difference_features() -> None:
    v = np.array([[0.0, 1.0, 4.0, 1.0, 0.0, 0.0]])  # peak under the cathode at index 2
    feats = second_difference_features(v, [1, 2])
    assert feats[0, 0] == pytest.approx(np.log(6.0))
    assert feats[0, 1] == pytest.approx(np.log(8.0 / 4.0))
    assert feats[0, 2] == pytest.approx(np.log(4.0))
