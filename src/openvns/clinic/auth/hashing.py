"""Password hashing below the patients' requests in the CPU's queue.

A sign-in costs one argon2 verify (0.2–0.35 s of CPU with argon2-cffi's defaults, on every lane
thread the parameters ask for). A login flood that gets past the per-address limit before it is
locked out (30 attempts per address) used to take both cores of a small server for seconds, and
every patient's diary write waited behind it: at 32 users the p99 of every endpoint rose from
about 0.3 s to over 1 s (``benchmarks/clinic_load.py --flood 20``).

:class:`BackgroundPasswordHasher` is an :class:`argon2.PasswordHasher` whose ``hash`` and
``verify`` run in a small per-process pool of threads that lowered their own scheduling priority
(Linux ``nice`` is per thread, and libargon2's lane threads inherit it from the thread that
creates them). With idle CPU nothing changes; under load the scheduler runs the requests first
and the hashes in what is left. The cost of a hash and the answer are unchanged, and a
sign-in for an unknown e-mail still costs exactly one verify.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import argon2

__all__ = ["HASHING_NICE", "HASHING_THREADS", "BackgroundPasswordHasher"]

logger = logging.getLogger(__name__)

#: How much the hashing threads lower their priority (``nice`` increment, 0–19; 10 is the
#: usual value for background work, e.g. ``nice``'s own default).
HASHING_NICE = 10
#: Hashes running at once per process (more wait their turn; each may use several lanes).
HASHING_THREADS = 2

_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None
_pool_lock = threading.Lock()


def _lower_priority() -> None:
    """Lower this thread's scheduling priority (Linux; elsewhere the thread runs as it is)."""
    get_tid = getattr(threading, "get_native_id", None)
    if not hasattr(os, "setpriority") or get_tid is None:
        return
    try:
        tid = get_tid()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + HASHING_NICE)
    except OSError as exc:  # a platform where the priority is per process, or refused
        logger.debug("password hashing keeps its priority: %s", exc)


def _hashing_pool() -> ThreadPoolExecutor:
    """This process's pool (made on first use, again after a fork)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(
                max_workers=HASHING_THREADS,
                thread_name_prefix="openvns-argon2",
                initializer=_lower_priority,
            )
            _pool_pid = os.getpid()
        return _pool


class BackgroundPasswordHasher(argon2.PasswordHasher):
    """An argon2 hasher whose work runs at lower priority (see the module documentation)."""

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        """As :meth:`argon2.PasswordHasher.hash`, in the low-priority pool."""
        base = super().hash
        return _hashing_pool().submit(lambda: base(password, salt=salt)).result()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        """As :meth:`argon2.PasswordHasher.verify` (raises the same errors), in the pool."""
        base = super().verify
        return _hashing_pool().submit(base, hash, password).result()
