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


@given(st.integers(0, 2**32), keys)
def test_a_cached_stream_is_the_seeded_stream(seed: int, ks: list[int | str]) -> None:
    # rng_for keeps its seed sequences; the stream is still exactly PCG64(SeedSequence(...))
    fresh = np.random.Generator(np.random.PCG64(seed_sequence(seed, *ks))).random(6)
    rng_for(seed, *ks).random(100)  # a generator used before does not share its state
    np.testing.assert_array_equal(rng_for(seed, *ks).random(6), fresh)


def test_spawning_from_a_public_sequence_does_not_move_a_stream() -> None:
    before = rng_for(3, "patient", 1).random(4)
    seed_sequence(3, "patient", 1).spawn(5)  # a fresh object: the cache is not touched
    np.testing.assert_array_equal(rng_for(3, "patient", 1).random(4), before)
    # numpy integers and other key types take the uncached path, with the same result or error
    np.testing.assert_array_equal(rng_for(np.int64(3), "patient", 1).random(4), before)
    with pytest.raises(AttributeError):
        rng_for(3, 1.0)


def test_kept_draws_come_back_read_only_and_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import openvns.random as r

    r.clear_kept_draws()
    calls: list[int] = []

    def draw(n: int) -> tuple[np.ndarray, ...]:
        calls.append(n)
        return (np.arange(float(n)),)

    idx = np.arange(3)
    (a,) = r.kept_draws(("t", 1), idx, lambda: draw(4))
    (b,) = r.kept_draws(("t", 1), idx, lambda: draw(4))
    assert a is b
    assert calls == [4]
    assert not a.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        a[0] = 1.0
    r.kept_draws(("t", 1), idx[::-1], lambda: draw(5))  # other patients: drawn
    r.kept_draws(("t", 2), idx, lambda: draw(6))  # another key: drawn
    assert calls == [4, 5, 6]
    # larger than the single-result bound: returned, not kept (and still writable)
    monkeypatch.setattr(r, "KEPT_DRAW_MAX_BYTES", 8 * 10)
    (big,) = r.kept_draws(("t", 3), idx, lambda: draw(11))
    (big2,) = r.kept_draws(("t", 3), idx, lambda: draw(11))
    assert big is not big2
    assert big.flags.writeable
    # the total bound evicts the least recently used
    monkeypatch.setattr(r, "KEPT_DRAWS_BYTES", 8 * 12)
    r.clear_kept_draws()
    for k in range(4):
        r.kept_draws(("u", k), idx, lambda: draw(5))
    assert r._kept_bytes <= 8 * 12
    assert len(r._kept) == 2
    r.clear_kept_draws()


def test_a_trial_is_the_same_with_or_without_kept_draws() -> None:
    import openvns.random as r
    from openvns.trials import run_trial
    from openvns.trials.config import TrialConfig

    design = TrialConfig.from_dict({"trial": {"baseline_days": 14, "blinded_days": 21}}).design
    r.clear_kept_draws()
    cold = run_trial(design, n_per_arm=6, root_seed=4)
    warm = run_trial(design, n_per_arm=6, root_seed=4)
    assert r._kept  # the second run read what the first kept
    for name in ("nrs", "observed", "current_mA", "ae_reported", "dropout_day", "pgic"):
        np.testing.assert_array_equal(getattr(cold, name), getattr(warm, name), err_msg=name)
    r.clear_kept_draws()


@given(
    st.integers(0, 2**70),
    st.lists(st.one_of(st.integers(0, 2**66), st.text(max_size=6)), max_size=3),
    st.lists(st.one_of(st.integers(0, 2**32 - 1), st.integers(0, 2**63 - 1)), max_size=6),
)
def test_generators_built_at_once_are_rng_for_stream_for_stream(
    seed: int, ks: list[int | str], indices: list[int]
) -> None:
    from openvns.random import rngs_for

    many = rngs_for(seed, tuple(ks), np.asarray(indices, dtype=np.int64))
    assert len(many) == len(indices)
    for g, i in zip(many, indices, strict=True):
        np.testing.assert_array_equal(g.random(4), rng_for(seed, *ks, i).random(4))


def test_generators_at_once_take_numpy_seeds_and_refuse_bad_keys() -> None:
    from openvns.random import rngs_for

    idx = [2**32, 2**40 + 5, 3]  # a power replicate's block starts at (r + 1) 2^32
    for g, i in zip(rngs_for(np.uint32(9), ("patient",), idx), idx, strict=True):
        np.testing.assert_array_equal(g.random(3), rng_for(9, "patient", i).random(3))
    with pytest.raises(ValueError, match="non-negative"):
        rngs_for(9, ("patient", -1), [0])
    with pytest.raises(ValueError, match="non-negative"):
        rngs_for(9, ("patient",), [-1])
