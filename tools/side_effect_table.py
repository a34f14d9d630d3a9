"""Print the side-effect course of docs/patient.md and docs/validation.md (Markdown).

For the 5-year open-label cohort on the standard titration (0.25 mA every 14 days to tolerance,
max 2.0 mA; 20 Hz, 250 µs, 30 s / 5 min; the `standard_5yr` cohort of `openvns validate`) each
channel's share of patients reporting it in the 3 months before the 3-month, 12-month and 5-year
visits (Ben-Menachem 2015's reading), the point prevalence at 3 months (share of patients in the
study reporting it on a day), how persistent it is (median share of days reported by the patients
who report it in a 4-week window around 3 months: a side effect is a state, not a daily coin
flip), and for the default trial's sham and active arms the share reporting it during the 12
blinded weeks (post-operative, background and nocebo reports in every arm).

    .venv/bin/python tools/side_effect_table.py [--patients 3000] [--seed 20261125]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from openvns.physiology.side_effect_parameters import SIDE_EFFECTS, load_side_effect_parameters
from openvns.protocol import Protocol
from openvns.trials import Arm, TrialDesign
from openvns.trials.runner import run_trial, simulate_patients

STANDARD = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA; "
    "20 Hz; 250 us; 30 s on / 5 min off"
)
VISITS = (91, 365, 1825)
RECALL_DAYS = 91


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--patients", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=20261125)
    args = ap.parse_args()
    n, days = args.patients, VISITS[-1] + 1
    design = TrialDesign(
        arms=(Arm(name="vns", kind="active", protocol=Protocol.parse(STANDARD)),),
        baseline_days=0, blinded_days=84, open_label_days=days - 84, open_label_arm="vns",
    )  # fmt: skip
    out = simulate_patients(design, np.arange(n), np.zeros(n, dtype=np.int64),
                            root_seed=args.seed)  # fmt: skip
    ae, drop = out["ae_reported"], out["dropout_day"]
    in_study = (drop[:, None] < 0) | (np.arange(days)[None, :] <= drop[:, None])
    trial = run_trial(TrialDesign.default(), n_per_arm=n, root_seed=args.seed)
    d = trial.design
    blinded = slice(d.baseline_days, d.baseline_days + d.blinded_days)
    se = load_side_effect_parameters()
    w = sys.stdout.write
    w(f"Side effects, version {se.version}; {n} patients per cohort and arm; seed {args.seed}.\n\n")
    w("| side effect | 3 mo | 12 mo | 5 yr | point, 3 mo | days reported by reporters | "
      "sham arm, 12 wk | active arm, 12 wk |\n|---|---|---|---|---|---|---|---|\n")  # fmt: skip
    for k, name in enumerate(SIDE_EFFECTS):
        visit = []
        for day in VISITS:
            seen = in_study[:, day]
            visit.append(100 * ae[seen, day - RECALL_DAYS : day, k].any(axis=1).mean())
        window = slice(77, 105)
        alive = in_study[:, window]
        point = 100 * (ae[:, window, k] & alive).sum() / alive.sum()
        rep = ae[in_study[:, 104], window, k]
        who = rep.any(axis=1)
        # no reporter (a skin channel under an implant): no share of days to show
        persist = f"{100 * float(np.median(rep[who].mean(axis=1))):.0f} %" if who.any() else "–"
        arms = []
        for arm in ("sham", "active"):
            m = (trial.arm == trial.arm_names.index(arm)) & trial.eligible
            arms.append(100 * trial.ae_reported[m][:, blinded, k].any(axis=1).mean())
        w(f"| {se.channels[name].label} | {visit[0]:.1f} % | {visit[1]:.1f} % | {visit[2]:.1f} % "
          f"| {point:.1f} % | {persist} | {arms[0]:.1f} % | {arms[1]:.1f} % |\n")  # fmt: skip
    cur = out["current_mA"][:, :365].max(axis=1)
    still = " / ".join(f"{100 * in_study[:, t].mean():.0f} %" for t in (365, 1095, 1825))
    w(f"\nHighest current in the first year (standard titration): median {np.median(cur):.2f} mA "
      f"(10 / 90 %: {np.percentile(cur, 10):.2f} / {np.percentile(cur, 90):.2f} mA); "
      f"still on therapy at 1 / 3 / 5 years: {still}.\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
