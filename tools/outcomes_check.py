"""Measure the outcome model on simulated fibromyalgia patients (docs/outcomes.md).

``python tools/outcomes_check.py [N]``: N patients on the standard titration after a 28-day
baseline, 84 days of stimulation; prints the PGIC–diary rank correlation, the much-improved and
≥ 30 % responder shares and their discordance, and the functional outcomes' levels and responders.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.stats import spearmanr  # type: ignore[import-untyped]

from openvns.analysis.endpoints import change_from_baseline, endpoint_window
from openvns.patients import sample_patients
from openvns.patients.outcomes import mcid, simulate_outcomes
from openvns.protocol import STANDARD_TITRATION, Protocol
from openvns.simulation import Simulation

N = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
BASE, TREAT, SEED = 28, 84, 1
END = BASE + TREAT

names = [f"fibromyalgia#{i:04d}" for i in range(N)]
protocol = Protocol.parse(f"{STANDARD_TITRATION}; baseline {BASE} days")
sol = Simulation(names, protocol, seed=SEED).run(END)
cohort = sample_patients("fibromyalgia", np.arange(N), SEED)
o = simulate_outcomes(cohort, sol["reported_pain_NRS"], baseline_days=BASE, root_seed=SEED)
ch = change_from_baseline(
    sol["nrs"].astype(float), sol["observed"], slice(0, BASE), endpoint_window(END, BASE)
)
ok = ~np.isnan(ch.change_pct)
pct, pg = ch.change_pct[ok], o.pgic[ok, END - 1]
print(f"Spearman PGIC vs diary % change: {spearmanr(pg, pct)[0]:.3f}")
print(f"PGIC <= 2: {np.mean(pg <= 2):.3f}; >= 30 % responders: {np.mean(pct <= -30):.3f}; "
      f"discordant: {np.mean((pg <= 2) != (pct <= -30)):.3f}")  # fmt: skip
print("PGIC 1..7 shares:", np.round(np.bincount(pg.astype(int), minlength=8)[1:] / pg.size, 3))
near = np.abs(pct) < 5
print(f"|change| < 5 %: n = {near.sum()}, median PGIC {np.median(pg[near])}")
for name, m in (("bpi_interference", mcid("bpi_interference").value), ("sleep", None),
                ("fiqr", mcid("fiqr").value)):  # fmt: skip
    a = getattr(o, name)[ok]
    b0, b1 = a[:, BASE - 1], a[:, END - 1]
    line = f"{name}: baseline {b0.mean():.2f} (SD {b0.std():.2f}), end {b1.mean():.2f}"
    line += f", r(baseline, diary baseline pain) {np.corrcoef(b0, ch.baseline_NRS[ok])[0, 1]:.2f}"
    if name == "bpi_interference" and m is not None:
        line += f", >= {m} point better: {np.mean(b0 - b1 >= m):.3f}"
    if name == "fiqr" and m is not None:
        line += f", >= {m} % better: {np.mean((b0 - b1) >= m / 100 * b0):.3f}"
    print(line)
