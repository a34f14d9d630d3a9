"""Candidate evaluation for implanted VNS: the record, the rules and the assessment."""

from __future__ import annotations
