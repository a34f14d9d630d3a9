"""The threshold search of :mod:`openvns.nerve.threshold`: ladder, k-section, block windows.

Every function takes a *runner* with ``fire(rows, amps) -> fired`` (one simulation per
``(row, amplitude)`` member, amplitudes in mA) and works on all rows at once.

The ladder climbs ``start · ratio^j`` in rounds of ``k`` rungs from below threshold; the
k-section then narrows each bracket ``(lo, hi]`` with ``k`` evenly spaced amplitudes per round.
Both are **speculative** when ``depth > 1``: one batched call evaluates every amplitude the
next ``depth`` rounds could ask for (the rounds after "nothing fired" for the ladder; every branch
of the k-section tree, ``(k + 1)^depth − 1`` amplitudes), and the rounds are then replayed one at
a time from the results. The answers are therefore exactly those of the round-by-round search
(same amplitudes, same decisions), only with fewer, larger calls that fill the solver's SIMD
lanes; a k-section to depth ``d`` is a ``((k + 1)^d − 1)``-section on the same grid.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from openvns.nerve.fibres.parameters import load

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


class Runner(Protocol):
    """Runs batches of ``(row, amplitude)`` members; whether each fired."""

    def fire(self, rows: I64, amps: F64) -> NDArray[np.bool_]:
        """One simulation per member."""
        ...


class _Results:
    """Outcomes per row and exact amplitude, filled by batched speculative calls."""

    def __init__(self, run: Runner, n: int) -> None:
        self.run = run
        self.seen: list[dict[float, bool]] = [{} for _ in range(n)]

    def evaluate(self, wanted: dict[int, list[float]]) -> None:
        """Simulate every ``(row, amplitude)`` of ``wanted`` not simulated yet, in one call."""
        rows: list[int] = []
        amps: list[float] = []
        for row, values in wanted.items():
            known = self.seen[row]
            for a in dict.fromkeys(values):
                if a not in known:
                    rows.append(row)
                    amps.append(a)
        if rows:
            fired = self.run.fire(np.asarray(rows, dtype=np.int64), np.asarray(amps))
            for row, a, f in zip(rows, amps, fired, strict=True):
                self.seen[row][a] = bool(f)

    def lookup(self, row: int, amps: F64) -> NDArray[np.bool_] | None:
        """Outcomes of ``amps`` for ``row``, or ``None`` if any is not known yet."""
        known = self.seen[row]
        out = [known.get(float(a)) for a in amps]
        if any(f is None for f in out):
            return None
        return np.asarray(out, dtype=np.bool_)


# ------------------------------------------------------------------------------------ ladder
def _ladder(
    run: Runner, start: F64, ratio: float, k: int, a_max: float, depth: int = 1
) -> tuple[F64, F64, F64]:
    """Climb ``start · ratio^j`` in rounds of ``k`` until each row fires; (lo, hi, blocked).

    The climb must start below threshold (a start inside a block window cannot be told from one
    below threshold): a row whose first amplitude fires starts again ``restart_factor`` lower.
    ``blocked`` is the lowest amplitude above ``hi`` seen not to fire in the same round (a block
    window), ``nan`` if none. ``depth`` rounds are evaluated per call (see the module docstring).
    """
    n = start.size
    lo = np.zeros(n)
    hi = np.full(n, np.nan)
    blocked = np.full(n, np.nan)
    base = start.copy()  # lowest amplitude of the next round
    todo = np.ones(n, dtype=np.bool_)
    first = np.ones(n, dtype=np.bool_)
    restart = load("solver").get("restart_factor")
    floor = start * restart**4  # give up going down: threshold ~0
    powers = ratio ** np.arange(k)
    res = _Results(run, n)
    while np.any(todo):
        wanted: dict[int, list[float]] = {}
        for row in np.flatnonzero(todo):
            b = base[row]
            pts: list[float] = []
            for _ in range(max(1, depth)):  # the rounds after "nothing fired"
                a = b * powers
                pts.extend(float(x) for x in a)
                b = a[-1] * ratio
                if b > a_max:
                    break
            wanted[int(row)] = pts
        res.evaluate(wanted)
        for row in np.flatnonzero(todo):
            while todo[row]:  # replay the rounds whose outcomes are known
                a = base[row] * powers
                f = res.lookup(int(row), a)
                if f is None:
                    break
                if first[row] and f[0]:  # not below threshold: start again far lower
                    hi[row] = a[0]
                    base[row] = a[0] * restart
                    todo[row] = base[row] >= floor[row]
                    continue
                first[row] = False
                if np.any(f):
                    j = int(np.argmax(f))
                    # below a[j]: a[j - 1], or the top of the previous round (sub-threshold)
                    hi[row], lo[row] = a[j], (a[j - 1] if j > 0 else a[0] / ratio)
                    todo[row] = False
                    nb = np.flatnonzero(~f[j:])
                    if nb.size:
                        blocked[row] = a[j + int(nb[0])]
                else:
                    lo[row] = a[-1]
                    base[row] = a[-1] * ratio
                    todo[row] = base[row] <= a_max
    return lo, hi, blocked


# -------------------------------------------------------------------------------- k-section
def _section_tree(
    lo: float, hi: float, frac: F64, rel_tol: float, depth: int, out: list[float]
) -> None:
    """Append every amplitude the next ``depth`` k-section rounds of ``(lo, hi)`` may ask for."""
    if depth <= 0 or not hi - lo > rel_tol * hi:
        return
    a = lo + (hi - lo) * frac
    out.extend(float(x) for x in a)
    k = a.size
    for j in range(k + 1):
        if j < k:
            nlo, nhi = (a[j - 1] if j > 0 else lo), a[j]
        else:
            nlo, nhi = a[-1], hi
        _section_tree(float(nlo), float(nhi), frac, rel_tol, depth - 1, out)


def _ksection(
    run: Runner, rows: I64, lo: F64, hi: F64, k: int, rel_tol: float, depth: int,
    switch_on_fire: bool,
) -> tuple[F64, F64]:  # fmt: skip
    """k-section of ``(lo, hi]`` per entry until ``hi − lo ≤ rel_tol · hi``.

    The bracket's upper end is where the outcome switches: the first amplitude that fires
    (``switch_on_fire``) or the first that does not. Entry ``i`` simulates row ``rows[i]``.
    """
    lo, hi = lo.copy(), hi.copy()
    frac = np.arange(1, k + 1) / (k + 1)
    res = _Results(run, int(rows.max()) + 1 if rows.size else 0)
    while True:
        todo = np.flatnonzero(np.isfinite(hi) & (hi - lo > rel_tol * hi))
        if todo.size == 0:
            return lo, hi
        wanted: dict[int, list[float]] = {}
        for i in todo:
            pts: list[float] = []
            _section_tree(float(lo[i]), float(hi[i]), frac, rel_tol, max(1, depth), pts)
            wanted.setdefault(int(rows[i]), []).extend(pts)
        res.evaluate(wanted)
        for i in todo:
            while hi[i] - lo[i] > rel_tol * hi[i]:  # replay the rounds whose outcomes are known
                a = lo[i] + (hi[i] - lo[i]) * frac
                f = res.lookup(int(rows[i]), a)
                if f is None:
                    break
                switch = f if switch_on_fire else ~f
                if np.any(switch):
                    j = int(np.argmax(switch))
                    hi[i] = a[j]
                    if j > 0:
                        lo[i] = a[j - 1]
                else:
                    lo[i] = a[-1]


def _refine(
    run: Runner, lo: F64, hi: F64, k: int, rel_tol: float, depth: int = 1
) -> tuple[F64, F64]:
    """k-section of every finite bracket until ``hi − lo ≤ rel_tol · hi``."""
    rows = np.arange(lo.size, dtype=np.int64)
    return _ksection(run, rows, lo, hi, k, rel_tol, depth, switch_on_fire=True)


def _refine_generic(
    run: Runner, rows: I64, lo: F64, hi: F64, k: int, rel_tol: float,
    *, want_fire_below: bool, depth: int = 1,
) -> tuple[F64, F64]:  # fmt: skip
    """k-section of brackets whose ``lo`` end fires (``want_fire_below``) or does not."""
    return _ksection(run, rows, lo, hi, k, rel_tol, depth, switch_on_fire=not want_fire_below)


# ------------------------------------------------------------------------------ block window
def _block_window(
    run: Runner, thr: F64, blocked: F64, k: int, rel_tol: float, factor: float, ratio: float,
    depth: int = 1,
) -> F64:  # fmt: skip
    """Lowest blocked amplitude above threshold and where APs pass again, per row (or nan)."""
    n = thr.size
    out = np.full((n, 2), np.nan)
    # 1. find a blocked amplitude: ladder above threshold
    onset_hi = blocked.copy()
    todo = np.flatnonzero(np.isfinite(thr) & ~np.isfinite(onset_hi))
    steps = max(1, math.ceil(math.log(factor) / math.log(ratio)))
    if todo.size:
        amps = thr[todo][:, None] * ratio ** np.arange(1, steps + 1)[None, :]
        fired = run.fire(np.repeat(todo, steps), amps.ravel()).reshape(-1, steps)
        for row, f, a in zip(todo, fired, amps, strict=True):
            nb = np.flatnonzero(~f)
            if nb.size:
                onset_hi[row] = a[nb[0]]
    rows = np.flatnonzero(np.isfinite(onset_hi))
    if rows.size == 0:
        return out
    # 2. onset: between threshold (fires) and onset_hi (blocked); assume firing just above thr
    lo_on, hi_on = thr[rows].copy(), onset_hi[rows].copy()
    lo_on, hi_on = _refine_generic(
        run, rows, lo_on, hi_on, k, rel_tol, want_fire_below=True, depth=depth
    )
    out[rows, 0] = hi_on
    # 3. end of the window: ladder above onset until it fires again
    end_lo = hi_on.copy()
    end_hi = np.full(rows.size, np.nan)
    amps = end_lo[:, None] * ratio ** np.arange(1, steps + 1)[None, :]
    fired = run.fire(np.repeat(rows, steps), amps.ravel()).reshape(-1, steps)
    for i, (f, a) in enumerate(zip(fired, amps, strict=True)):
        if np.any(f):
            j = int(np.argmax(f))
            end_hi[i] = a[j]
            end_lo[i] = a[j - 1] if j > 0 else end_lo[i]
    ok = np.isfinite(end_hi)
    if np.any(ok):
        _, eh = _refine_generic(
            run, rows[ok], end_lo[ok], end_hi[ok], k, rel_tol, want_fire_below=False, depth=depth
        )
        out[rows[ok], 1] = eh
    return out
