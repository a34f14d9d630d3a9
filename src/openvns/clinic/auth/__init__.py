"""Users, roles, passwords, page sessions with CSRF, and API bearer tokens."""

from __future__ import annotations
