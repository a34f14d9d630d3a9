"""The bounds of a titration plan, checked before any step is computed.

A plan is a protocol expanded into dated steps. Without bounds a request could make that
expansion fail or run away: ``every 100000000 days`` or a ``start_at`` in year 9999 overflowed
the calendar (a server error), and a 1e-7 mA step asked for twelve million steps (20 s and
2.2 GB before the safety check refused them). :func:`check_plan` refuses such plans with a
:class:`~openvns.errors.ValidationError` (a 422 naming the field, the value and what is allowed)
from the protocol's numbers alone, before :meth:`~openvns.protocol.Protocol.check` or the
scheduler lists a single step.
"""

from __future__ import annotations

import math
import sys
from datetime import datetime, timedelta

from openvns.errors import ValidationError
from openvns.protocol.plans import Titration
from openvns.protocol.text import Protocol

#: Most steps a plan may have, its first included (the standard titration has 8: 0.25 mA to
#: 2.0 mA by 0.25 mA).
MAX_PLAN_STEPS = 500
#: Longest interval between two steps, in days (the reference steps every 14 days or so).
MAX_STEP_INTERVAL_DAYS = 365
#: How far ahead of now a plan may start, in days.
MAX_START_AHEAD_DAYS = 365
#: Longest plan from its first step to its last, in days (about five years).
MAX_PLAN_DAYS = 5 * 365 + 1


def plan_step_count(protocol: Protocol) -> int:
    """How many steps ``protocol`` expands to, its first included, without listing them.

    The count of :func:`openvns.device.programs.titration_currents_mA` (one step for a plan
    that is not a titration, or that starts at its maximum).
    """
    current = protocol.current
    if not isinstance(current, Titration) or current.start_mA >= current.max_mA:
        return 1
    if not math.isfinite((current.max_mA - current.start_mA) / current.step_mA):
        return sys.maxsize  # a step too small to divide by: more steps than anyone may ask
    return current.n_steps + 1


def check_plan(protocol: Protocol, text: str, start: datetime, now: datetime) -> None:
    """Refuse a plan that is too long, too sparse or too far ahead, before expanding it.

    Parameters
    ----------
    protocol
        The parsed protocol.
    text
        The protocol as the request gave it (the value the error echoes).
    start
        The first step (``start_at``, or now).
    now
        The clinic's current time.

    Raises
    ------
    ValidationError
        ``protocol`` expands to more than :data:`MAX_PLAN_STEPS` steps, steps less often than
        every :data:`MAX_STEP_INTERVAL_DAYS` days or lasts more than :data:`MAX_PLAN_DAYS`;
        ``start_at`` is more than :data:`MAX_START_AHEAD_DAYS` after ``now``.
    """
    latest = now + timedelta(days=MAX_START_AHEAD_DAYS)
    if start > latest:
        raise ValidationError(
            "start_at",
            start.isoformat(),
            f"a start from now to {MAX_START_AHEAD_DAYS} days ahead (not after "
            f"{latest.isoformat()})",
        )
    current = protocol.current
    if not isinstance(current, Titration):
        return
    if current.interval_days > MAX_STEP_INTERVAL_DAYS:
        raise ValidationError(
            "protocol",
            text,
            f"steps every 1 to {MAX_STEP_INTERVAL_DAYS} days (this plan steps every "
            f"{current.interval_days} days)",
        )
    steps = plan_step_count(protocol)
    if steps > MAX_PLAN_STEPS:
        raise ValidationError(
            "protocol",
            text,
            f"at most {MAX_PLAN_STEPS} steps (this plan has {steps}, from {current.start_mA} mA "
            f"by {current.step_mA} mA to {current.max_mA} mA): a larger step or a smaller range",
        )
    days = (steps - 1) * current.interval_days
    if days > MAX_PLAN_DAYS:
        raise ValidationError(
            "protocol",
            text,
            f"a plan of at most {MAX_PLAN_DAYS} days from its first step to its last (this plan "
            f"takes {days} days: {steps} steps every {current.interval_days} days)",
        )
