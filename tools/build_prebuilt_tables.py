"""Build the recruitment tables shipped with the package (``openvns/nerve/data/prebuilt``).

A first ``openvns trial run`` on a fresh machine then needs no solver run: the builder uses a
shipped table when its recorded inputs equal the current ones (package version aside), and
builds otherwise. Rerun this after any change to the population, cuff, fibre parameter files,
solver settings or surrogate; ``tests/nerve/test_prebuilt.py`` fails until you do.

    .venv/bin/python tools/build_prebuilt_tables.py [--lead 2mm ...]   (default: 2mm and 3mm)
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

from openvns.nerve.recruitment import build_recruitment_table, default_cache_dir

OUT = Path(__file__).resolve().parents[1] / "src" / "openvns" / "nerve" / "data" / "prebuilt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lead", action="append", default=None, help="lead id (default: 2mm and 3mm)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    OUT.mkdir(parents=True, exist_ok=True)
    cache = default_cache_dir()
    for lead in args.lead or ["2mm", "3mm"]:
        table = build_recruitment_table(lead, cache_dir=cache)
        for suffix in (".npz", ".json"):
            shutil.copyfile(cache / f"{table.key}{suffix}", OUT / f"{lead}{suffix}")
        logging.info("%s: table %s -> %s", lead, table.key[:12], OUT / f"{lead}.npz")


if __name__ == "__main__":
    main()
