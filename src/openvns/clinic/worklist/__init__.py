"""The care team's worklist: battery indicators, lead impedance, stale diaries and intolerable
side effects over every patient, most urgent first."""

from __future__ import annotations
