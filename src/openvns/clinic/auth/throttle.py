"""Sign-in throttling: account lockout and a per-address limit, kept in this process's memory.

Two counters, both consulted before a password is verified (a refused attempt costs no hash):

* **Account lockout.** Failed sign-ins are counted per e-mail address as typed (lower case),
  whether or not an account has it, so the answers never tell whether an account exists.
  ``max_failures`` failures within ``failure_window`` lock that e-mail for ``lockout``; while
  locked every attempt, even with the right password, is refused. A successful sign-in clears
  the e-mail's failures.
* **Per-address limit.** At most ``attempts_per_minute`` sign-in attempts per client address in
  any 60 s. An attempt counts when it is admitted and is given back when it succeeds, so only
  failed (and still running) attempts use up the limit: a clinic behind one NAT or proxy address
  is not slowed by its own staff signing in, but a script guessing passwords or flooding the
  server with argon2 work is stopped after ``attempts_per_minute`` tries.

Both refusals carry the seconds until an attempt may succeed (``Retry-After``).

The counters live in a :class:`LoginThrottle` in this process's memory, one per database
engine (:func:`openvns.clinic.auth.dependencies.get_login_throttle`), guarded by a lock, and are
not kept across restarts. A server with several worker processes (``clinic serve --workers``)
uses :class:`openvns.clinic.auth.shared_throttle.SharedLoginThrottle` instead, the same rules in
a scratch file every worker opens (``Settings.throttle_path``), so that ``N`` workers do not give
an address ``N`` times the attempts. Entries older than their window are forgotten on the way and
swept when the table grows, so memory stays bounded by the attempts of the last window.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from openvns.clinic.config import Settings
from openvns.clinic.errors import ClinicError

#: The window of the per-address limit, in seconds.
ADDRESS_WINDOW_S = 60.0
#: Tracked keys beyond which an admitted attempt first sweeps expired entries (the bound then
#: doubles past what is still live, so sweeps stay rare when many entries are live).
_SWEEP_ABOVE = 10_000


class LoginThrottledError(ClinicError):
    """Too many sign-in attempts (HTTP 429); ``retry_after_s`` until the next may succeed."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            f"too many sign-in attempts; try again in {retry_after_s} s (or ask an administrator)"
        )


class Throttle(Protocol):
    """What sign-in needs of a throttle (in memory or shared between workers)."""

    def admit(self, address: str, email: str) -> None: ...

    def failed(self, address: str, email: str) -> None: ...

    def succeeded(self, address: str, email: str) -> None: ...

    def unlock(self, email: str) -> None: ...

    def address_retry_after(self, address: str) -> int | None: ...


class LoginThrottle:
    """Failed sign-ins per e-mail and attempts per client address, with a lock.

    Parameters
    ----------
    max_failures
        Failures of one e-mail within ``failure_window`` that lock it.
    failure_window, lockout
        The window counting failures, and how long a lock lasts.
    attempts_per_minute
        Attempts one client address may have under way or failed within 60 s.
    clock
        Monotonic seconds (tests move it).
    """

    def __init__(
        self,
        *,
        max_failures: int,
        failure_window: timedelta,
        lockout: timedelta,
        attempts_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.failure_window_s = failure_window.total_seconds()
        self.lockout_s = lockout.total_seconds()
        self.attempts_per_minute = attempts_per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._attempts: dict[str, deque[float]] = {}
        self._sweep_above = _SWEEP_ABOVE

    @classmethod
    def from_settings(
        cls, settings: Settings, clock: Callable[[], float] = time.monotonic
    ) -> LoginThrottle:
        """A throttle with the limits of ``settings``."""
        return cls(
            max_failures=settings.login_max_failures,
            failure_window=settings.login_failure_window,
            lockout=settings.login_lockout,
            attempts_per_minute=settings.login_attempts_per_minute,
            clock=clock,
        )

    @staticmethod
    def _key(email: str) -> str:
        return email_key(email)

    def admit(self, address: str, email: str) -> None:
        """Admit one sign-in attempt from ``address`` for ``email``, or refuse it.

        Raises
        ------
        LoginThrottledError
            The address has used up its attempts, or the e-mail is locked.
        """
        now = self._clock()
        key = self._key(email)
        with self._lock:
            if self._tracked() > self._sweep_above:
                self._sweep(now)
                self._sweep_above = max(_SWEEP_ABOVE, 2 * self._tracked())
            locked_until = self._locked_until.get(key)
            if locked_until is not None:
                if now < locked_until:
                    raise LoginThrottledError(_seconds(locked_until - now))
                del self._locked_until[key]
            attempts = _recent(self._attempts, address, now - ADDRESS_WINDOW_S)
            if len(attempts) >= self.attempts_per_minute:
                raise LoginThrottledError(_seconds(attempts[0] + ADDRESS_WINDOW_S - now))
            attempts.append(now)

    def address_retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again when it has used up its attempts, else
        ``None``; changes nothing (the cheap early refusal of a flood, before any session)."""
        now = self._clock()
        since = now - ADDRESS_WINDOW_S
        with self._lock:
            live = [t for t in self._attempts.get(address, ()) if t > since]
        if len(live) < self.attempts_per_minute:
            return None
        return _seconds(live[0] + ADDRESS_WINDOW_S - now)

    def failed(self, address: str, email: str) -> None:
        """Record that the admitted attempt failed: count it against the e-mail (and keep it
        counted against the address); lock the e-mail at ``max_failures``."""
        now = self._clock()
        key = self._key(email)
        with self._lock:
            failures = _recent(self._failures, key, now - self.failure_window_s)
            failures.append(now)
            if len(failures) >= self.max_failures:
                self._locked_until[key] = now + self.lockout_s
                del self._failures[key]

    def succeeded(self, address: str, email: str) -> None:
        """Record that the admitted attempt succeeded: the e-mail's failures are cleared and the
        attempt is given back to the address."""
        key = self._key(email)
        with self._lock:
            self._failures.pop(key, None)
            attempts = self._attempts.get(address)
            if attempts:
                attempts.pop()
                if not attempts:
                    del self._attempts[address]

    def unlock(self, email: str) -> None:
        """Forget the failures and the lock of ``email`` (an administrator's reset)."""
        key = self._key(email)
        with self._lock:
            self._failures.pop(key, None)
            self._locked_until.pop(key, None)

    def sweep(self) -> None:
        """Forget every entry whose window or lock has passed."""
        with self._lock:
            self._sweep(self._clock())

    def tracked(self) -> int:
        """How many addresses and e-mails are tracked (failures, locks, attempts)."""
        with self._lock:
            return self._tracked()

    def _tracked(self) -> int:
        return len(self._attempts) + len(self._failures) + len(self._locked_until)

    def _sweep(self, now: float) -> None:
        for table, window in (
            (self._attempts, ADDRESS_WINDOW_S),
            (self._failures, self.failure_window_s),
        ):
            for key in [k for k, times in table.items() if not times or times[-1] <= now - window]:
                del table[key]
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]


def email_key(email: str) -> str:
    """The e-mail as the throttle counts it (as typed, trimmed and in lower case)."""
    return email.strip().lower()


def _recent(table: dict[str, deque[float]], key: str, since: float) -> deque[float]:
    """The times of ``key`` after ``since`` (older ones dropped), created when missing."""
    times = table.setdefault(key, deque())
    while times and times[0] <= since:
        times.popleft()
    return times


def _seconds(delta: float) -> int:
    """Whole seconds to wait, at least 1."""
    return max(1, math.ceil(delta))
