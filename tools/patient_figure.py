"""Write the figure and numbers of ``docs/patient.md``: one patient, a year of the standard
titration after a 28-day baseline.

    .venv/bin/python tools/patient_figure.py [docs/figures/patient-fibromyalgia-0010.png]
"""

from __future__ import annotations

import sys

from openvns.protocol import STANDARD_TITRATION
from openvns.simulation import Simulation


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "docs/figures/patient-fibromyalgia-0010.png"
    sim = Simulation("fibromyalgia#0010", f"{STANDARD_TITRATION}; baseline 28 days", seed=2026)
    solution = sim.run(28 + 365)
    solution.plot(path=path)
    for d in solution.decisions():
        print(f"day {d.day:>3}  {d.decision:<24} {d.current_after_mA:>5g} mA  {d.reason}")
    print(f"coupling θ {solution.provenance['coupling'][0]:.2f}, "
          f"tolerance {solution.provenance['tolerance'][0]:.2f}")  # fmt: skip
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
