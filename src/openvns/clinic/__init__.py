"""The pain clinic: a FastAPI service over SQLAlchemy 2 with Alembic migrations.

Install with the ``clinic`` extra (``pip install 'openvns[clinic]'``); the rest of OpenVNS never
imports this package. Start it with ``openvns clinic serve`` or build the app yourself::

    from openvns.clinic.app import create_app
    from openvns.clinic.config import load_settings

    app = create_app(load_settings(database_url="sqlite:////tmp/clinic.sqlite3"))

Layout: :mod:`~openvns.clinic.config` (settings), :mod:`~openvns.clinic.db` (base, engine and
session, migrations), one package per domain (:mod:`~openvns.clinic.auth`,
:mod:`~openvns.clinic.audit`, :mod:`~openvns.clinic.patients`), each with ``models`` (tables),
``schemas`` (pydantic v2), ``service`` (plain functions taking a ``Session``) and ``router``.
"""

from __future__ import annotations

__all__: list[str] = []
