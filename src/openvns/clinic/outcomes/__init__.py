"""Per-patient outcomes computed from the diaries with :mod:`openvns.analysis.endpoints`."""

from __future__ import annotations
