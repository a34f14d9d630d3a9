"""Shared building blocks: the frozen, strict pydantic base every value type of OpenVNS uses."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["FrozenModel"]


class FrozenModel(BaseModel):
    """An immutable value: unknown fields are refused (``extra="forbid"``), fields cannot change."""

    model_config = ConfigDict(frozen=True, extra="forbid")
