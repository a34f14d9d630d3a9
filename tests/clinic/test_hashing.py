"""Password hashing runs in a low-priority pool and answers exactly as argon2 does."""

from __future__ import annotations

import os
import sys
import threading

import argon2
import pytest

from openvns.clinic.auth import hashing
from openvns.clinic.auth.security import make_password_hasher

FAST = argon2.Parameters(
    type=argon2.Type.ID,
    version=19,
    salt_len=16,
    hash_len=16,
    time_cost=1,
    memory_cost=8,
    parallelism=1,
)


def test_hash_and_verify_answer_as_argon2() -> None:
    hasher = make_password_hasher(FAST)
    assert isinstance(hasher, hashing.BackgroundPasswordHasher)
    stored = hasher.hash("correct horse")
    assert argon2.PasswordHasher.from_parameters(FAST).verify(stored, "correct horse")
    assert hasher.verify(stored, "correct horse")
    with pytest.raises(argon2.exceptions.VerifyMismatchError):
        hasher.verify(stored, "wrong horse")
    with pytest.raises(argon2.exceptions.InvalidHashError):
        hasher.verify("not a hash", "correct horse")


def test_hash_runs_in_the_pool_not_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    base = argon2.PasswordHasher.hash

    def spy(
        self: argon2.PasswordHasher, password: str | bytes, *, salt: bytes | None = None
    ) -> str:
        seen.append(threading.current_thread().name)
        return base(self, password, salt=salt)

    monkeypatch.setattr(argon2.PasswordHasher, "hash", spy)
    make_password_hasher(FAST).hash("x")
    assert seen
    assert all(name.startswith("openvns-argon2") for name in seen)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_hashing_threads_have_lower_priority_than_the_caller() -> None:
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def priority() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    theirs = hashing._hashing_pool().submit(priority).result()
    assert theirs == min(mine + hashing.HASHING_NICE, 19)
    # the calling thread is untouched
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
