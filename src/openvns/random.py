"""Reproducible randomness: one root seed, ``SeedSequence`` spawned per key.

Every random stream in OpenVNS is derived from a root seed and a tuple of keys (patient index,
fibre index, arm name, ...), so the same root seed gives the same numbers whether work runs
serially, in a process pool or on a cluster, and whatever the order in which it is scheduled.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

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


def rng_for(root_seed: int, *keys: int | str) -> np.random.Generator:
    """Return an independent PCG64 generator for ``keys`` under ``root_seed``."""
    return np.random.Generator(np.random.PCG64(seed_sequence(root_seed, *keys)))
