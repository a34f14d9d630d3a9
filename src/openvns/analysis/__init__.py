"""Outcome analysis shared by the trials and the clinic: endpoints, statistics, plotting helpers.

Sits above :mod:`openvns.patients` and below :mod:`openvns.simulation`, :mod:`openvns.trials` and
:mod:`openvns.clinic`, so both a trial and a clinic patient's outcomes use the same definitions
without the clinic importing the trials.

* :mod:`openvns.analysis.endpoints` — IMMPACT endpoints from ``(patients, days)`` diaries.
* :mod:`openvns.analysis.statistics` — intervals and tests (t, Wilson, Newcombe, Kaplan–Meier).
* :mod:`openvns.analysis.plotting` — arm colours, Agg figures and PNG bytes (matplotlib lazily).
* :mod:`openvns.analysis.headache` — headache prevention: attacks per week, monthly migraine or
  headache days, responders, between-arm comparisons (non-invasive VNS trials, issue 11).
* :mod:`openvns.analysis.acute` — acute treatment of attacks: ACT1 response at 15 min, pain-free
  and pain relief at 30/60/120 min, first attack or per-patient proportions of attacks.
* :mod:`openvns.analysis.count_regression` — negative-binomial rate ratios by maximum likelihood.
* :mod:`openvns.analysis.crossover` — AB/BA crossover trials (Hills–Armitage).
* :mod:`openvns.analysis.headache_parameters` — the headache endpoints' sourced definitions.
"""

from openvns.analysis.endpoints import (
    DAYS_PER_WEEK,
    MissingRule,
    change_from_baseline,
    compare_arms,
    responders,
    summarise_arm,
    window_mean_NRS,
)
from openvns.analysis.plotting import arm_colour, figure_png
from openvns.analysis.statistics import Interval, mean_ci, wilson_ci

__all__ = [
    "DAYS_PER_WEEK",
    "Interval",
    "MissingRule",
    "arm_colour",
    "change_from_baseline",
    "compare_arms",
    "figure_png",
    "mean_ci",
    "responders",
    "summarise_arm",
    "wilson_ci",
    "window_mean_NRS",
]
