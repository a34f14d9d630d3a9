"""Append-only audit log: who changed what, when, and the record before and after."""

from __future__ import annotations
