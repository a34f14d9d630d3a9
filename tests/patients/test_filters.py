"""The first-order recursions replace ``scipy.signal.lfilter`` bit for bit."""

from __future__ import annotations

import sys
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter  # type: ignore[import-untyped]

from openvns.patients.filters import first_order


@settings(max_examples=200)
@given(
    st.integers(1, 12),
    st.integers(1, 40),
    st.floats(-3.0, 3.0, allow_nan=False),
    st.floats(-0.999, 0.999, allow_nan=False),
    st.integers(0, 2**32 - 1),
    st.floats(-6.0, 6.0),
)
def test_first_order_is_lfilter_bit_for_bit(
    n: int, days: int, b0: float, a1: float, seed: int, log_scale: float
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, days)) * 10.0**log_scale
    zi = rng.standard_normal((n, 1))
    y_ref, z_ref = lfilter([b0], [1.0, a1], x, axis=1, zi=zi)
    with mock.patch.dict(sys.modules):  # the loop, not lfilter: scipy.signal "not loaded"
        sys.modules.pop("scipy.signal", None)
        y, z = first_order(b0, a1, x, zi)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(z, z_ref)
    # with scipy.signal loaded (or a large array) lfilter runs: the same numbers
    y2, z2 = first_order(b0, a1, x, zi)
    np.testing.assert_array_equal(y2, y_ref)
    np.testing.assert_array_equal(z2, z_ref)


def test_no_days_leave_the_state_as_it_was() -> None:
    # (lfilter's final state for an empty input is not its initial one: uninitialised memory)
    y, z = first_order(0.5, -0.3, np.zeros((2, 0)), np.array([[1.0], [2.0]]))
    assert y.shape == (2, 0)
    np.testing.assert_array_equal(z, [[1.0], [2.0]])


def test_an_ar1_has_its_stationary_variance() -> None:
    # y[t] = phi y[t-1] + sqrt(1 - phi^2) e[t] from y[0] ~ N(0, 1) stays N(0, 1)
    rng = np.random.default_rng(0)
    phi = 0.8
    e = rng.standard_normal((20_000, 60))
    y0 = rng.standard_normal((20_000, 1))
    y, _ = first_order(np.sqrt(1.0 - phi**2), -phi, e, phi * y0)
    assert abs(y[:, -1].var() - 1.0) < 0.04
    assert abs(np.corrcoef(y[:, -1], y[:, -2])[0, 1] - phi) < 0.02
