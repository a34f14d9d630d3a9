"""openvns.random: reproducible, independent streams per key."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvns.random import RNG_SCHEME, rng_for, seed_sequence

keys = st.lists(st.one_of(st.integers(0, 2**63), st.text(max_size=8)), max_size=4)


@given(st.integers(0, 2**32), keys)
def test_same_seed_and_keys_give_the_same_stream(seed: int, ks: list[int | str]) -> None:
    a = rng_for(seed, *ks).random(8)
    b = rng_for(seed, *ks).random(8)
    np.testing.assert_array_equal(a, b)


def test_different_keys_give_different_streams() -> None:
    draws = {
        key: tuple(rng_for(42, *key).random(4))
        for key in [(), (0,), (1,), ("patient", 0), ("patient", 1), ("arm", 0), (0, 1), (1, 0)]
    }
    assert len(set(draws.values())) == len(draws)


def test_different_root_seeds_give_different_streams() -> None:
    assert not np.array_equal(rng_for(1, "a").random(4), rng_for(2, "a").random(4))


def test_streams_do_not_depend_on_order_of_creation() -> None:
    first = [rng_for(7, "patient", i).random(3) for i in range(5)]
    second = [rng_for(7, "patient", i).random(3) for i in reversed(range(5))][::-1]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_streams_for_different_keys_are_uncorrelated() -> None:
    a = rng_for(0, "fibre", 1).standard_normal(20_000)
    b = rng_for(0, "fibre", 2).standard_normal(20_000)
    # |r| of two independent samples of 20 000 exceeds 0.04 with probability < 1e-8
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.04


def test_string_keys_are_hashed_stably() -> None:
    # The spawn key of a string is its SHA-256 prefix: stable across processes and runs.
    ss = seed_sequence(5, "arm")
    assert ss.spawn_key == (
        int.from_bytes(__import__("hashlib").sha256(b"arm").digest()[:8], "little"),
    )
    assert ss.entropy == 5


def test_negative_integer_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        rng_for(0, -1)


def test_scheme_is_versioned() -> None:
    assert RNG_SCHEME.endswith("-v1")
