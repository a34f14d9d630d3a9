"""Programming sessions: interrogate, diagnose, propose, check, program, verify; titration plans."""

from __future__ import annotations
