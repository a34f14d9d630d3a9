"""Patient records: demographics, diagnosis, and the link to a patient's own user account."""

from __future__ import annotations
