"""Pain-course check (issue 10, item 2): placebo responders, placebo effect size, floor, boundary.

Simulates the fibromyalgia placebo arm exactly as the Häuser validation target does
(:func:`openvns.trials.validation._placebo_targets`: sham protocol, pill-like expectation
``sham_device_placebo_multiplier = 1``, 28-day baseline, 84 blinded days, inclusion ≥ 4/10), the
same arm with the shipped sham-*device* multiplier, and an active arm, and prints for each
(eligible patients):

- ``resp30``/``resp50``: ≥ 30 % / ≥ 50 % responders, baseline days 0–27 vs days 84–111 (trial
  weeks 13–16 = treatment weeks 9–12), missing = non-responder (the validation rule);
- ``ES``: placebo effect size as Chen 2017 define it = mean improvement (baseline mean − end
  mean) / SD of that change, over patients with entries in both windows
  (:func:`openvns.patients.placebo.placebo_effect_size`); ``ES_b`` divides by the baseline SD,
  ``ES_pool`` by the pooled SD of baseline and end means (other conventions, for comparison);
- ``zeros``: share of observed entries in days 84–111 that are exactly 0;
- ``painfree``: share of patients whose mean of days 84–111 is below 0.5 (reads as 0);
- ``step``: mean observed NRS day 28 (first treatment day) minus day 27, beside the mean
  absolute day-to-day change of the baseline means (days 1–27) as the noise scale.

Usage: ``.venv/bin/python tools/pain_course_check.py [n_patients] [root_seed]``.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np

from openvns.analysis.endpoints import change_from_baseline, responders
from openvns.physiology.parameters import load_parameters
from openvns.protocol import STANDARD_TITRATION, Protocol
from openvns.simulation.parameters import ModelParameters
from openvns.simulation.recruitment import default_recruitment
from openvns.trials import Arm, TrialDesign
from openvns.trials.runner import simulate_patients

BASE, END = 28, 112
SHAM = "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"
DESIGN = TrialDesign(
    arms=(
        Arm(name="active", kind="active", protocol=Protocol.parse(STANDARD_TITRATION)),
        Arm(name="sham", kind="sham", protocol=Protocol.parse(SHAM)),
    ),
    baseline_days=BASE, blinded_days=END - BASE, open_label_days=0,
)  # fmt: skip


def _responders(nrs: np.ndarray, obs: np.ndarray, threshold: float) -> tuple[int, int]:
    """Responders (count, denominator), baseline days vs days 84 … END (missing: non-responder)."""
    ch = change_from_baseline(nrs, obs, slice(0, BASE), slice(84, END))
    r = responders(ch.change_pct, threshold, missing="non_responder")
    return r.count, r.n


def measure(parameters: ModelParameters, arm: int, n: int, seed: int) -> dict[str, float]:
    """The numbers of the module docstring for ``n`` patients of arm ``arm`` (0 active, 1 sham)."""
    out = simulate_patients(
        DESIGN, np.arange(n), np.full(n, arm, dtype=np.int64), root_seed=seed,
        recruitment=default_recruitment(), parameters=parameters,
    )  # fmt: skip
    elig = out["eligible"]
    nrs = out["nrs"][elig].astype(np.float64)
    obs = out["observed"][elig]
    k30, n30 = _responders(nrs, obs, 30.0)
    k50, _ = _responders(nrs, obs, 50.0)
    x = np.where(obs, nrs, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # patients with no entry in a window
        b = np.nanmean(x[:, :BASE], axis=1)
        e = np.nanmean(x[:, 84:END], axis=1)
        day_mean = np.nanmean(x, axis=0)
    ok = ~np.isnan(b) & ~np.isnan(e)
    ch = b[ok] - e[ok]
    win = x[:, 84:END]
    return {
        "n_elig": float(elig.sum()),
        "resp30": 100 * k30 / n30,
        "resp50": 100 * k50 / n30,
        "ES": ch.mean() / ch.std(ddof=1),
        "ES_b": ch.mean() / b[ok].std(ddof=1),
        "ES_pool": ch.mean() / np.sqrt((b[ok].var(ddof=1) + e[ok].var(ddof=1)) / 2.0),
        "change": ch.mean(),
        "zeros": 100 * np.nansum(win == 0) / np.sum(~np.isnan(win)),
        "painfree": 100 * np.mean(e[ok] < 0.5),
        "step": day_mean[BASE] - day_mean[BASE - 1],
        "noise": np.mean(np.abs(np.diff(day_mean[1:BASE]))),
        "day27": day_mean[BASE - 1],
        "day28": day_mean[BASE],
        "end": day_mean[END - 1],
    }


def line(label: str, r: dict[str, Any]) -> str:
    return (
        f"{label:14s} n_elig={r['n_elig']:6.0f} resp30={r['resp30']:5.1f} % "
        f"resp50={r['resp50']:5.1f} % ES={r['ES']:4.2f} (ES_b={r['ES_b']:4.2f} "
        f"ES_pool={r['ES_pool']:4.2f}) change={r['change']:4.2f} zeros={r['zeros']:4.1f} % "
        f"painfree={r['painfree']:4.1f} % step27->28={r['step']:+.3f} "
        f"(|day-to-day| {r['noise']:.3f}) day27={r['day27']:.2f} day28={r['day28']:.2f} "
        f"end={r['end']:.2f}"
    )


def main(n: int = 40_000, seed: int = 20261125) -> None:
    default = ModelParameters.default("fibromyalgia")
    base = ModelParameters(load_parameters(), default.condition, default.diary)
    pill = base.with_(sham_device_placebo_multiplier=1.0)
    print(line("pill (mult 1)", measure(pill, 1, n, seed)))
    print(line("sham device", measure(base, 1, n, seed)))
    print(line("active device", measure(base, 0, max(n // 4, 2000), seed)))


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:3]])
