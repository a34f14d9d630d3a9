"""The sign-in throttle shared by the worker processes of one server (``clinic serve --workers``).

:class:`~openvns.clinic.auth.throttle.LoginThrottle` keeps its counters in one process's memory:
with ``N`` workers an attacker would get ``N`` times the attempts, because the kernel spreads
connections over the workers. :class:`SharedLoginThrottle` keeps the same counters, with the same
rules and the same methods, in a small SQLite file that every worker of the server opens: a
private scratch file (the server creates it in a fresh 0700 directory and removes it on exit;
counters are not kept across restarts, as with the in-memory throttle). It is **not** the
clinic's database, so a login flood never takes the clinic's write lock.

Each operation is one short ``BEGIN IMMEDIATE`` transaction on that file (``synchronous=OFF``:
the counters need no durability, only atomicity between the workers). Times are wall-clock
seconds (``time.time``), comparable between processes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from openvns.clinic.auth.throttle import (
    ADDRESS_WINDOW_S,
    LoginThrottledError,
    _seconds,
    email_key,
)
from openvns.clinic.config import Settings

#: Kinds of rows: attempts per address, failures per e-mail, locks per e-mail (``until``).
_ATTEMPT, _FAILURE, _LOCK = "attempt", "failure", "lock"
#: Rows beyond which an admitted attempt first deletes expired ones.
_SWEEP_ABOVE = 10_000
#: How long an operation waits for another worker's transaction on the file (seconds).
_BUSY_TIMEOUT_S = 5.0

_INSERT = "INSERT INTO throttle (kind, key, at) VALUES (?, ?, ?)"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS throttle (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS throttle_kind_key_at ON throttle (kind, key, at);
"""


class SharedLoginThrottle:
    """Failed sign-ins per e-mail and attempts per client address, in a file the workers share.

    The methods and rules are those of :class:`~openvns.clinic.auth.throttle.LoginThrottle`.

    Parameters
    ----------
    path
        The scratch SQLite file (created when missing).
    max_failures, failure_window, lockout, attempts_per_minute
        As for the in-memory throttle.
    clock
        Wall-clock seconds (tests move it).
    """

    def __init__(
        self,
        path: Path,
        *,
        max_failures: int,
        failure_window: timedelta,
        lockout: timedelta,
        attempts_per_minute: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.max_failures = max_failures
        self.failure_window_s = failure_window.total_seconds()
        self.lockout_s = lockout.total_seconds()
        self.attempts_per_minute = attempts_per_minute
        self._clock = clock
        # One connection per process, used by one thread at a time (the lock); the workers'
        # transactions exclude each other through SQLite's file lock.
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        # A second connection for address_retry_after, which the event loop calls: it never
        # waits (a WAL reader does not wait for writers; busy or in use: no early answer).
        self._read_lock = threading.Lock()
        self._reader = sqlite3.connect(
            self.path, timeout=0.0, isolation_level=None, check_same_thread=False
        )
        with self._transaction() as db:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)

    @classmethod
    def from_settings(
        cls, path: Path, settings: Settings, clock: Callable[[], float] = time.time
    ) -> SharedLoginThrottle:
        """A shared throttle in ``path`` with the limits of ``settings``."""
        return cls(
            path,
            max_failures=settings.login_max_failures,
            failure_window=settings.login_failure_window,
            lockout=settings.login_lockout,
            attempts_per_minute=settings.login_attempts_per_minute,
            clock=clock,
        )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

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
        with self._transaction() as db:
            if _count(db) > _SWEEP_ABOVE:
                self._sweep(db, now)
            row = db.execute(
                "SELECT max(at) FROM throttle WHERE kind = ? AND key = ?", (_LOCK, key)
            ).fetchone()
            if row[0] is not None:
                if now < row[0]:
                    raise LoginThrottledError(_seconds(row[0] - now))
                db.execute("DELETE FROM throttle WHERE kind = ? AND key = ?", (_LOCK, key))
            since = now - ADDRESS_WINDOW_S
            db.execute(
                "DELETE FROM throttle WHERE kind = ? AND key = ? AND at <= ?",
                (_ATTEMPT, address, since),
            )
            count, first = db.execute(
                "SELECT count(*), min(at) FROM throttle WHERE kind = ? AND key = ?",
                (_ATTEMPT, address),
            ).fetchone()
            if count >= self.attempts_per_minute:
                raise LoginThrottledError(_seconds(first + ADDRESS_WINDOW_S - now))
            db.execute(_INSERT, (_ATTEMPT, address, now))

    def address_retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again when it has used up its attempts, else
        ``None`` (also when the file is busy: the full check follows); changes nothing."""
        if not self._read_lock.acquire(blocking=False):
            return None
        try:
            now = self._clock()
            count, first = self._reader.execute(
                "SELECT count(*), min(at) FROM throttle WHERE kind = ? AND key = ? AND at > ?",
                (_ATTEMPT, address, now - ADDRESS_WINDOW_S),
            ).fetchone()
        except sqlite3.OperationalError:
            return None
        finally:
            self._read_lock.release()
        if count < self.attempts_per_minute:
            return None
        return _seconds(first + ADDRESS_WINDOW_S - now)

    def failed(self, address: str, email: str) -> None:
        """Record that the admitted attempt failed: count it against the e-mail (and keep it
        counted against the address); lock the e-mail at ``max_failures``."""
        now = self._clock()
        key = self._key(email)
        with self._transaction() as db:
            db.execute(
                "DELETE FROM throttle WHERE kind = ? AND key = ? AND at <= ?",
                (_FAILURE, key, now - self.failure_window_s),
            )
            db.execute(_INSERT, (_FAILURE, key, now))
            (count,) = db.execute(
                "SELECT count(*) FROM throttle WHERE kind = ? AND key = ?", (_FAILURE, key)
            ).fetchone()
            if count >= self.max_failures:
                db.execute("DELETE FROM throttle WHERE kind = ? AND key = ?", (_FAILURE, key))
                db.execute(_INSERT, (_LOCK, key, now + self.lockout_s))

    def succeeded(self, address: str, email: str) -> None:
        """Record that the admitted attempt succeeded: the e-mail's failures are cleared and the
        attempt is given back to the address (its newest one)."""
        key = self._key(email)
        with self._transaction() as db:
            db.execute("DELETE FROM throttle WHERE kind = ? AND key = ?", (_FAILURE, key))
            db.execute(
                "DELETE FROM throttle WHERE id = (SELECT id FROM throttle WHERE kind = ? "
                "AND key = ? ORDER BY at DESC, id DESC LIMIT 1)",
                (_ATTEMPT, address),
            )

    def unlock(self, email: str) -> None:
        """Forget the failures and the lock of ``email`` (an administrator's reset)."""
        key = self._key(email)
        with self._transaction() as db:
            db.execute(
                "DELETE FROM throttle WHERE kind IN (?, ?) AND key = ?", (_FAILURE, _LOCK, key)
            )

    def sweep(self) -> None:
        """Forget every entry whose window or lock has passed."""
        with self._transaction() as db:
            self._sweep(db, self._clock())

    def tracked(self) -> int:
        """How many addresses and e-mails are tracked (failures, locks, attempts)."""
        with self._lock:
            (n,) = self._db.execute(
                "SELECT count(*) FROM (SELECT DISTINCT kind, key FROM throttle)"
            ).fetchone()
        return int(n)

    def _sweep(self, db: sqlite3.Connection, now: float) -> None:
        db.execute(
            "DELETE FROM throttle WHERE (kind = ? AND at <= ?) OR (kind = ? AND at <= ?) "
            "OR (kind = ? AND at <= ?)",
            (_ATTEMPT, now - ADDRESS_WINDOW_S, _FAILURE, now - self.failure_window_s, _LOCK, now),
        )

    def close(self) -> None:
        """Close this process's connection to the file."""
        with self._lock, self._read_lock:
            self._db.close()
            self._reader.close()


def _count(db: sqlite3.Connection) -> int:
    (n,) = db.execute("SELECT count(*) FROM throttle").fetchone()
    return int(n)
