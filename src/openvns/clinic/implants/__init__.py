"""Implants: the generator and lead of a patient, with the virtual implant's full state."""

from __future__ import annotations
