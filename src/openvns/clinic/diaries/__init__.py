"""Patient diaries: daily pain (NRS), PGIC, BPI and side-effect reports, entered by the patient."""

from __future__ import annotations
