"""Thresholds per functional group: the finite-element field against the analytic cuff field.

Samples the human cervical vagus (``openvns.nerve.population``, ``--n-per-group`` fibres per
group, ``--seed``), solves the helical cuff in its tissues by finite elements
(``openvns.nerve.fem.cuff_model``, ``data/fem.yaml``; mesh sizes overridable) and computes every
sampled fibre's threshold at ``--pulse-width`` (the recruitment table's symmetric biphasic
waveform and solver settings) in both fields. Prints per group the weighted median threshold
(I50) in each field and their ratio, the wall times, and the coupling θ the trials would need
with the FEM field: the human laryngeal EMG50 (0.49 mA at 250 µs, P12 of the physiology set)
over the FEM laryngeal-motor I50.

    .venv/bin/python tools/fem_thresholds.py [--n-per-group 20] [--pulse-width 250] [--seed 0]
        [--groups laryngeal_motor,cardiac_B,A_afferent,Adelta_afferent] [--h-nerve 80]
        [--h-z 50] [--h-wall 80] [--domain-radius 20000] [--progress]

``--convergence`` instead prints the mesh-convergence check of docs/nerve.md: the thresholds of
the 14 probe fibres (:mod:`openvns.nerve.fem.convergence`) on the mesh (the default, or the
``--h-*`` values) and on the mesh refined once (spacings × 0.75), and their largest change.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from openvns.nerve import data_files
from openvns.nerve.fem.convergence import probe_thresholds, refined
from openvns.nerve.fem.cuff_model import StageCallback, Tissues, cuff_field
from openvns.nerve.fibres import build_fiber
from openvns.nerve.field import AnalyticField
from openvns.nerve.geometry import HelicalCuff
from openvns.nerve.population import PopulationParameters, build_nerve, sample_population
from openvns.nerve.population_thresholds import solver_thresholds
from openvns.nerve.recruitment import default_waveform
from openvns.nerve.threshold import find_thresholds

#: Human laryngeal EMG50 at 250 µs (mA): the physiology set's P12, the target of θ's median.
EMG50_MA = 0.49


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value at which the weighted share of smaller values reaches one half."""
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w) / w.sum()
    return float(v[np.searchsorted(cum, 0.5)])


def _print_stage(name: str, done: int, total: int) -> None:
    print(f"  FEM field: {name} ({done}/{total} done)", flush=True)


def convergence(
    cuff: HelicalCuff, tissues: Tissues, seed: int, stage: StageCallback | None
) -> None:
    """Print the probe fibres' thresholds on ``tissues``' mesh and on it refined once."""
    nerve = build_nerve(PopulationParameters.default(), seed)
    out = []
    for t in (tissues, refined(tissues)):
        t0 = time.perf_counter()
        thr, nodes = probe_thresholds(nerve, cuff, t, stage=stage)
        out.append(thr)
        print(f"h_nerve {t.h_nerve_um:g}, h_wall {t.h_wall_um:g}, h_z {t.h_z_contact_um:g} µm: "
              f"{nodes:,} nodes, {time.perf_counter() - t0:.0f} s; thresholds (mA) "
              f"{np.round(thr, 4).tolist()}", flush=True)  # fmt: skip
    change = np.abs(out[0] / out[1] - 1.0)
    print(f"change on refinement: max {100 * change.max():.2f} %, median "
          f"{100 * np.median(change):.2f} % (mesh / refined - 1, {len(change)} fibres)",
          flush=True)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-per-group", type=int, default=20)
    ap.add_argument("--pulse-width", type=float, default=250.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--groups", default="laryngeal_motor,cardiac_B,A_afferent,Adelta_afferent")
    ap.add_argument("--lead", default="2mm")
    ap.add_argument("--h-nerve", type=float, default=None)
    ap.add_argument("--h-z", type=float, default=None)
    ap.add_argument("--h-wall", type=float, default=None)
    ap.add_argument("--domain-radius", type=float, default=None)
    ap.add_argument("--convergence", action="store_true")
    ap.add_argument("--progress", action="store_true", help="print the FEM's stages")
    args = ap.parse_args()
    stage = _print_stage if args.progress else None
    pop = sample_population(PopulationParameters.default(), n_per_group=args.n_per_group,
                            seed=args.seed)  # fmt: skip
    cuff = HelicalCuff.from_lead(args.lead)
    given = (("h_nerve_um", args.h_nerve), ("h_z_contact_um", args.h_z),
             ("h_wall_um", args.h_wall), ("domain_radius_um", args.domain_radius))  # fmt: skip
    changes = {k: v for k, v in given if v is not None}
    if args.convergence:
        convergence(cuff, Tissues.default(**changes), args.seed, stage)
        return
    t0 = time.perf_counter()
    fem = cuff_field(pop.nerve, cuff, Tissues.default(**changes), stage=stage)
    t_fem = time.perf_counter() - t0
    print(f"FEM: {len(fem.mesh.points_um):,} nodes, {len(fem.mesh.tets):,} tetrahedra, "
          f"meshed and solved (2 contacts) in {t_fem:.1f} s")  # fmt: skip
    analytic = AnalyticField.cuff(cuff)
    cfg = data_files.load("recruitment.yaml")
    pw = (float(args.pulse_width),)
    print(f"\nthresholds at {args.pulse_width:g} µs, {args.n_per_group} fibres per group "
          f"(weighted medians, mA)")  # fmt: skip
    print(f"{'group':18s} {'analytic I50':>13s} {'FEM I50':>9s} {'FEM/analytic':>13s}")
    i50: dict[str, float] = {}
    for group in args.groups.split(","):
        members = pop.indices(group)
        out = []
        for fld in (analytic, fem):
            thr, _, _ = solver_thresholds(pop, members, pw, default_waveform, find_thresholds,
                                          build_fiber, fld, cfg)  # fmt: skip
            out.append(weighted_median(thr[:, 0], pop.weight[members]))
        i50[group] = out[1]
        print(f"{group:18s} {out[0]:13.4f} {out[1]:9.4f} {out[1] / out[0]:13.2f}")
    if "laryngeal_motor" in i50 and args.pulse_width == 250.0:
        theta = EMG50_MA / i50["laryngeal_motor"]
        print(f"\ncoupling θ for the human laryngeal EMG50 ({EMG50_MA} mA at 250 µs) with the "
              f"FEM field: {theta:.2f} (analytic table: 6.85)")  # fmt: skip


if __name__ == "__main__":
    main()
