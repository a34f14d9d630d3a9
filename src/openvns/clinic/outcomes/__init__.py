"""Per-patient outcomes computed from the diaries with :mod:`openvns.trials.endpoints`."""

from __future__ import annotations
