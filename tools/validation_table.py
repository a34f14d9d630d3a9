"""Print the validation table of ``docs/validation.md`` (Markdown) from the validation simulations.

The numbers come from :func:`openvns.trials.validation.run_validation`, the same code the
validation tests (``pytest -m validation``) and ``openvns validate`` run. Exit status 1 when a
calibration target fails.

    .venv/bin/python tools/validation_table.py [--seed 20261125] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import fields

from openvns.patients.conditions import conditions_version
from openvns.physiology import load_parameters
from openvns.physiology.side_effect_parameters import load_side_effect_parameters
from openvns.trials.validation import ValidationSizes, markdown_table, run_validation


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seed", type=int, default=20261125, help="root seed (default 20261125)")
    ap.add_argument(
        "--scale", type=float, default=1.0, help="multiply every simulation size (default 1)"
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    base = ValidationSizes()
    sizes = ValidationSizes(
        **{f.name: max(1, round(getattr(base, f.name) * args.scale)) for f in fields(base)}
    )
    results = run_validation(sizes=sizes, root_seed=args.seed)
    p = load_parameters()
    out = sys.stdout
    versions = (
        f"physiology {p.version}, side effects {load_side_effect_parameters().version}, "
        f"conditions {conditions_version()}"
    )
    out.write(f"Parameter sets: {versions}; root seed {args.seed}; sizes {sizes}.\n\n")
    out.write(markdown_table(results) + "\n")
    for kind, cal in (("calibration", True), ("held-out", False)):
        rs = [t for t in results if t.calibration == cal]
        out.write(f"\n{sum(t.passed for t in rs)}/{len(rs)} {kind} targets pass.")
    out.write("\n")
    return 1 if any(t.blocking for t in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
