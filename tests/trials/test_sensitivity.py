"""Global sensitivity through the SALib wrappers, checked on functions with known indices."""

from __future__ import annotations

import sys

import numpy as np
import numpy.typing as npt
import pytest

from openvns.errors import ValidationError
from openvns.trials.sensitivity import (
    analyse_function,
    morris_design,
    morris_indices,
    sobol_design,
)

pytest.importorskip("SALib")

A, B = 7.0, 0.1
PI = np.pi
NAMES = ("x1", "x2", "x3")
BOUNDS = [[-PI, PI]] * 3


def ishigami(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """sin x1 + a sin² x2 + b x3⁴ sin x1 on [-π, π]³."""
    out: npt.NDArray[np.float64] = (
        np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])
    )
    return out


def ishigami_indices() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Closed-form first-order and total indices (Ishigami & Homma 1990; Sobol' & Levitan)."""
    v1 = 0.5 * (1 + B * PI**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * PI**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    s1 = np.array([v1, v2, 0.0]) / v
    st = np.array([v1 + v13, v2, v13]) / v
    return s1, st


def test_sobol_indices_of_the_ishigami_function() -> None:
    s1, st = ishigami_indices()
    assert s1 == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)
    assert st == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)
    got = analyse_function(ishigami, NAMES, BOUNDS, method="sobol", base_samples=4096)
    assert list(got.index) == list(NAMES)
    np.testing.assert_allclose(got["S1"], s1, atol=0.03)
    np.testing.assert_allclose(got["ST"], st, atol=0.03)
    # the bootstrap intervals are honest: they cover the truth, and are narrow
    assert (np.abs(got["ST"] - st) <= got["ST_conf"] + 0.01).all()
    assert (got["S1_conf"] < 0.1).all()


def test_morris_of_a_linear_function_gives_its_slopes_over_the_ranges() -> None:
    slopes = np.array([2.0, -1.0, 0.0, 0.5])
    bounds = [[0.0, 1.0], [10.0, 12.0], [-1.0, 1.0], [0.0, 4.0]]
    width = np.array([b[1] - b[0] for b in bounds])
    names = ["a", "b", "c", "d"]
    x = morris_design(names, bounds, 10, root_seed=3)
    assert x.shape == (10 * 5, 4)
    got = morris_indices(names, bounds, x, x @ slopes, root_seed=3)
    np.testing.assert_allclose(got["mu"], slopes * width, atol=1e-9)
    np.testing.assert_allclose(got["mu_star"], np.abs(slopes) * width, atol=1e-9)
    np.testing.assert_allclose(got["sigma"], 0.0, atol=1e-9)


def test_morris_ranks_the_ishigami_inputs() -> None:
    got = analyse_function(ishigami, NAMES, BOUNDS, method="morris", trajectories=200)
    # x3 acts only through its interaction with x1: large sigma relative to its mean effect
    assert got.loc["x3", "sigma"] > got.loc["x3", "mu_star"] * 0.9
    assert got.loc["x1", "mu_star"] > got.loc["x3", "mu_star"] * 0.5


def test_designs_are_reproducible_and_checked() -> None:
    x = sobol_design(NAMES, BOUNDS, 8, root_seed=1)
    assert x.shape == (8 * (3 + 2), 3)
    np.testing.assert_array_equal(x, sobol_design(NAMES, BOUNDS, 8, root_seed=1))
    with pytest.raises(ValidationError, match="power of 2"):
        sobol_design(NAMES, BOUNDS, 12, root_seed=1)
    with pytest.raises(ValidationError, match="low < high"):
        sobol_design(NAMES, [[0.0, 1.0], [1.0, 1.0], [0.0, 1.0]], 8, root_seed=1)
    with pytest.raises(ValidationError, match="trajectories"):
        morris_design(NAMES, BOUNDS, 1, root_seed=1)
    with pytest.raises(ValidationError, match="method"):
        analyse_function(ishigami, NAMES, BOUNDS, method="fast")


def test_an_undefined_endpoint_value_is_refused() -> None:
    x = sobol_design(NAMES, BOUNDS, 8, root_seed=1)
    y = ishigami(x)
    y[3] = np.nan
    from openvns.trials.sensitivity import sobol_indices

    with pytest.raises(ValidationError, match="undefined"):
        sobol_indices(NAMES, BOUNDS, y, root_seed=1)


def test_a_constant_endpoint_has_every_index_zero() -> None:
    from openvns.trials.sensitivity import sobol_indices

    x = sobol_design(NAMES, BOUNDS, 8, root_seed=1)
    got = sobol_indices(NAMES, BOUNDS, np.full(x.shape[0], 0.25), root_seed=1)
    assert (got.to_numpy() == 0).all()


def test_without_salib_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "SALib" or m.startswith("SALib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "SALib", None)
    with pytest.raises(ImportError, match=r"openvns\[sensitivity\]"):
        sobol_design(NAMES, BOUNDS, 8, root_seed=1)
