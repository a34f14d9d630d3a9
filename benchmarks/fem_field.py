"""Benchmark: the default human model's finite-element field, both contacts (issue 14, item 6).

Builds the human cervical vagus of the default population (seed 0) in the 2 mm helical cuff with
its tissues (``openvns.nerve.fem.cuff_model``, ``data/fem.yaml``), meshes it and solves both
contacts; prints the mesh's size and the time of each step, against the target of 2 minutes on
the 2-core machine. With ``--table`` it then builds the lead's default recruitment table cold on
that field (no cache read or written: the field meshed and solved again, every solver threshold
run) and prints its time against the target of 5 minutes.

    .venv/bin/python benchmarks/fem_field.py [--lead 2mm] [--seed 0] [--table]
"""

from __future__ import annotations

import argparse
import itertools
import time

from openvns.nerve.fem.cuff_model import Tissues, build_mesh, cuff_field
from openvns.nerve.geometry import HelicalCuff
from openvns.nerve.population import PopulationParameters, build_nerve

TARGET_S = 120.0
#: Issue 14's target for a cold recruitment table on the FEM field (s).
TABLE_TARGET_S = 300.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lead", default="2mm")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--table", action="store_true", help="also build the table cold")
    args = ap.parse_args()
    nerve = build_nerve(PopulationParameters.default(), args.seed)
    cuff = HelicalCuff.from_lead(args.lead)
    tissues = Tissues.default()
    t0 = time.perf_counter()
    mesh, _ = build_mesh(nerve, cuff, tissues)
    t_mesh = time.perf_counter() - t0
    marks: list[tuple[str, float]] = []

    def mark(name: str, done: int, total: int) -> None:
        marks.append((name, time.perf_counter()))

    t1 = time.perf_counter()
    cuff_field(nerve, cuff, tissues, stage=mark)
    total = time.perf_counter() - t1
    print(f"nerve: {nerve.diameter_um:g} µm, {len(nerve.fascicles)} fascicles; lead {args.lead}")
    print(f"mesh: {len(mesh.points_um):,} nodes, {len(mesh.tets):,} tetrahedra, "
          f"{len(mesh.layer_triangles):,} perineurium triangles, {t_mesh:.1f} s")  # fmt: skip
    steps = ", ".join(f"{name} {t_next - t:.1f} s"
                      for (name, t), (_, t_next) in itertools.pairwise(marks))  # fmt: skip
    print(f"stages: {steps}")
    print(f"both contacts: {total:.1f} s (target ≤ {TARGET_S:.0f} s): ratio {total / TARGET_S:.2f}")
    if args.table:
        from openvns.nerve.recruitment import build_recruitment_table

        t2 = time.perf_counter()
        table = build_recruitment_table(args.lead, seed=args.seed, use_cache=False, field="fem")
        cold = time.perf_counter() - t2
        print(f"cold table {table.key[:12]} ({table.thresholds_mA.shape[0]:,} fibres × "
              f"{table.pulse_widths_us.size} pulse widths): {cold:.1f} s (target ≤ "
              f"{TABLE_TARGET_S:.0f} s): ratio {cold / TABLE_TARGET_S:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
