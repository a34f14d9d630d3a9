"""Reproducible randomness: one root seed, ``SeedSequence`` spawned per key.

Every random stream in OpenVNS is derived from a root seed and a tuple of keys (patient index,
fibre index, arm name, ...), so the same root seed gives the same numbers whether work runs
serially, in a process pool or on a cluster, and whatever the order in which it is scheduled.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

#: Version of the scheme below; stored with every result so a change is detectable.
RNG_SCHEME = "openvns-seedsequence-v1"
#: Root seed of a run that names none (the trial configuration and ``Simulation`` default).
DEFAULT_ROOT_SEED = 2026


def _key_to_int(key: int | str) -> int:
    if isinstance(key, int):
        if key < 0:
            raise ValueError(f"rng key {key!r} must be a non-negative integer or a string")
        return key
    return _string_key(key)


@lru_cache(maxsize=1024)
def _string_key(key: str) -> int:
    """A string key as a 64-bit integer (the first 8 bytes of its SHA-256, little endian)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def seed_sequence(root_seed: int, *keys: int | str) -> np.random.SeedSequence:
    """Return the ``SeedSequence`` for ``keys`` under ``root_seed``.

    Strings are hashed to 64-bit integers (SHA-256), integers are used as they are; the keys form
    the ``spawn_key`` so streams with different keys are independent.
    """
    return np.random.SeedSequence(root_seed, spawn_key=tuple(_key_to_int(k) for k in keys))


#: How many seed sequences :func:`rng_for` keeps: a trial of a few thousand patients names about
#: four streams per patient (screening, traits, physiology, diary), and an uncertainty or
#: sensitivity analysis names the same streams again for every parameter set.
RNG_CACHE_SIZE = 32768
#: Key types a kept sequence may have (``1`` and ``1.0`` or ``np.int64(1)`` are equal keys of the
#: cache; only plain ``int`` and ``str`` are valid ones, the others take the uncached path).
_CACHEABLE = frozenset({int, str})


@lru_cache(maxsize=RNG_CACHE_SIZE)
def _cached_sequence(root_seed: int, keys: tuple[int | str, ...]) -> np.random.SeedSequence:
    """The seed sequence of ``keys``, kept: building one (hashing its entropy) costs about three
    times as much as seeding a generator from it. Private: a kept sequence must never be
    spawned from (``SeedSequence.spawn`` counts its children), and a ``PCG64`` only reads it."""
    return seed_sequence(root_seed, *keys)


def rng_for(root_seed: int, *keys: int | str) -> np.random.Generator:
    """Return an independent PCG64 generator for ``keys`` under ``root_seed``.

    The same arguments always give a generator in the same state (a fresh one each call); the
    seed sequences behind them are cached (:data:`RNG_CACHE_SIZE`).
    """
    if type(root_seed) is int and _CACHEABLE.issuperset(map(type, keys)):
        sequence = _cached_sequence(root_seed, keys)
    else:  # other key types (a numpy integer, a bad key) are seeded, or refused, as before
        sequence = seed_sequence(root_seed, *keys)
    return np.random.Generator(np.random.PCG64(sequence))


# ------------------------------------------------------------------------ kept per-patient draws
#: Bytes of per-patient draws :func:`kept_draws` holds at most (least recently used first out).
KEPT_DRAWS_BYTES = 96 * 2**20
#: Largest single result kept (a larger one is drawn every time).
KEPT_DRAW_MAX_BYTES = 24 * 2**20
_kept: OrderedDict[tuple[Any, ...], tuple[np.ndarray, ...]] = OrderedDict()
_kept_bytes = 0
_kept_lock = threading.Lock()


def kept_draws(
    key: tuple[Any, ...],
    indices: np.ndarray,
    draw: Callable[[], tuple[np.ndarray, ...]],
) -> tuple[np.ndarray, ...]:
    """The arrays ``draw()`` returns for ``key`` and these patient ``indices``, kept for reuse.

    Per-patient streams are named (:func:`rng_for`), so what a stream gives for the same root
    seed, names, patients and lengths is the same every time: an uncertainty or sensitivity
    analysis, which runs the same patients (common random numbers) under many parameter sets,
    draws them once. ``key`` must hold everything the draws depend on besides the patients (the
    root seed, the stream names, the days, any parameter a draw reads); the arrays come back
    read-only. Results over :data:`KEPT_DRAW_MAX_BYTES` are not kept; the total is bounded by
    :data:`KEPT_DRAWS_BYTES`.
    """
    global _kept_bytes
    idx = np.ascontiguousarray(indices, dtype=np.int64)
    full = (*key, idx.shape[0], hashlib.sha256(idx.tobytes()).hexdigest())
    with _kept_lock:
        hit = _kept.get(full)
        if hit is not None:
            _kept.move_to_end(full)
            return hit
    arrays = draw()
    size = sum(a.nbytes for a in arrays)
    if size > KEPT_DRAW_MAX_BYTES:
        return arrays
    for a in arrays:
        a.flags.writeable = False
    with _kept_lock:
        if full not in _kept:
            _kept[full] = arrays
            _kept_bytes += size
            while _kept_bytes > KEPT_DRAWS_BYTES and len(_kept) > 1:
                _, old = _kept.popitem(last=False)
                _kept_bytes -= sum(a.nbytes for a in old)
    return arrays


def clear_kept_draws() -> None:
    """Forget every kept draw (:func:`kept_draws`)."""
    global _kept_bytes
    with _kept_lock:
        _kept.clear()
        _kept_bytes = 0
