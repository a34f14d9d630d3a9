"""The one-patient figure of a :class:`~openvns.simulation.solution.Solution` (matplotlib, lazy).

Seven panels share the day axis, following the data flow from settings to pain: current,
recruitment, brainstem, descending modulation, plasticity, side effects with heart rate, pain.
Titration decisions are marked on the current panel.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from openvns.physiology.drive import GROUPS
from openvns.physiology.model import SIDE_EFFECTS
from openvns.simulation.courses import BACK_OFF, DEVICE_OFF

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from openvns.simulation.solution import Solution

__all__ = ["plot_solution"]

#: Figure size in inches (width, height) of the seven stacked panels.
FIGSIZE_IN = (10.0, 15.0)
#: Characters per line of the title (patient and protocol text) at that width.
TITLE_WIDTH_CHARS = 110


def plot_solution(
    solution: Solution, patient: int | str = 0, *, path: str | Path | None = None
) -> Figure:
    """Draw one patient's states; save to ``path`` (PNG/SVG/PDF by suffix) when given."""
    from matplotlib.figure import Figure

    i = solution.patient_index(patient)
    s = solution
    day = s.day
    fig = Figure(figsize=FIGSIZE_IN, layout="constrained")
    axes = fig.subplots(7, 1, sharex=True)
    name = s.patients[i]
    title = textwrap.fill(f"{name}: {' then '.join(s.protocol)}", TITLE_WIDTH_CHARS)
    fig.suptitle(title, fontsize=10)

    ax = axes[0]
    ax.step(day, s["programmed_current_mA"][i], where="post", label="programmed")
    ax.step(day, s["delivered_current_mA"][i], where="post", linestyle="--", label="delivered")
    code = s["decision"][i]
    back = np.flatnonzero(code == BACK_OFF)
    off = np.flatnonzero(code == DEVICE_OFF)
    ax.plot(back, s["programmed_current_mA"][i][back], "v", color="tab:red", label="back off")
    if off.size:
        ax.axvline(off[0], color="k", linestyle=":", label="dropped out")
    ax.set_ylabel("current (mA)")
    ax.legend(fontsize=7, loc="upper left")

    ax = axes[1]
    for j, g in enumerate(GROUPS):
        ax.plot(day, s["recruited_fraction"][i, :, j], label=g.replace("_", " "))
    ax.set_ylabel("recruited\nfraction")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7, loc="upper left", ncol=2)

    ax = axes[2]
    ax.plot(day, s["D_on"][i], label="afferent drive (ON)")
    ax.plot(day, s["N_on"][i], label="noradrenaline (ON)")
    ax.plot(day, s["S"][i], label="LC sensitisation")
    ax.plot(day, s["R"][i], label="serotonin")
    ax.set_ylabel("brainstem")
    ax.legend(fontsize=7, loc="upper left", ncol=2)

    ax = axes[3]
    ax.plot(day, s["inhibition"][i], label="inhibition")
    ax.plot(day, s["facilitation"][i], label="facilitation")
    ax.plot(day, s["M"][i], label="net modulation", color="k")
    ax.axhline(0.0, color="0.7", linewidth=0.8)
    ax.set_ylabel("descending\nmodulation")
    ax.legend(fontsize=7, loc="upper left", ncol=3)

    ax = axes[4]
    ax.plot(day, s["G"][i], label="plasticity gain")
    ax.plot(day, s["C"][i], label="central sensitisation")
    ax.plot(day, s["E_slow"][i], label="retraining effect")
    ax.plot(day, s["E_acute"][i], label="acute effect")
    ax.set_ylabel("plasticity")
    ax.legend(fontsize=7, loc="upper left", ncol=2)

    ax = axes[5]
    # the channels this patient reported (else the three largest burdens): eleven lines would
    # hide the few that matter
    shown = [j for j in range(len(SIDE_EFFECTS)) if s["ae_reported"][i, :, j].any()]
    if not shown:
        peak = s["B"][i].max(axis=0)
        shown = [int(j) for j in np.argsort(peak)[::-1][:3] if peak[j] > 0]
    for row, j in enumerate(shown):
        name = SIDE_EFFECTS[j].replace("_", " ")
        line = ax.plot(day, s["B"][i, :, j], linewidth=0.9, label=name)[0]
        rep = np.flatnonzero(s["ae_reported"][i, :, j])
        ax.plot(rep, np.full(rep.size, -0.05 * (row + 1)), "|", color=line.get_color())
    ax.set_ylabel("side-effect burden\n(| reported)")
    hr = ax.twinx()
    hr.plot(day, s["HR_change_pct"][i], color="tab:gray", linewidth=0.8)
    hr.set_ylabel("HR change (%)", color="tab:gray")
    if shown:
        ax.legend(fontsize=7, loc="upper right", ncol=3)

    ax = axes[6]
    entered = s["observed"][i]
    ax.plot(day[entered], s["nrs"][i][entered], ".", markersize=3, color="0.5", label="diary NRS")
    ax.plot(day, s["P_true_NRS"][i], color="tab:blue", label="latent pain")
    ax.plot(day, s["reported_pain_NRS"][i], color="tab:orange", linewidth=0.6, alpha=0.7,
            label="reported (before rounding)")  # fmt: skip
    if s.baseline_days:
        for a in axes:
            a.axvspan(0, s.baseline_days, color="0.93", zorder=0)
    ax.set_ylabel("pain (NRS)")
    ax.set_ylim(-0.2, 10.2)
    ax.set_xlabel("day")
    ax.legend(fontsize=7, loc="lower left", ncol=3)
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
