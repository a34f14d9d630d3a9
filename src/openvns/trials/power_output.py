"""A power curve's files: the numbers (CSV, JSON) and the figure (PNG; matplotlib imported
lazily, on its own Agg canvas)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from openvns.trials.power import PowerCurve

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CSV_COLUMNS",
    "POWER_TARGETS",
    "power_csv",
    "power_document",
    "power_figure",
    "write_power",
]

#: The powers whose sample size is read off the curve.
POWER_TARGETS: tuple[float, ...] = (0.8, 0.9)
#: Columns of ``power.csv``, one row per comparison, endpoint and size.
CSV_COLUMNS = (
    "comparison",
    "endpoint",
    "label",
    "n_per_arm",
    "replicates",
    "rejections",
    "power",
    "mc_se",
    "alpha",
)


def power_document(curve: PowerCurve) -> dict[str, Any]:
    """JSON-able: the curve, and per endpoint the n per arm for each of :data:`POWER_TARGETS`."""
    targets = {t: curve.n_for(t) for t in POWER_TARGETS}
    endpoints = []
    for e in curve.endpoints:
        key = (e.comparison, e.endpoint)
        endpoints.append(
            {
                "comparison": e.comparison,
                "endpoint": e.endpoint,
                "label": e.label,
                "n_per_arm": list(curve.sizes),
                "rejections": [int(x) for x in e.rejections],
                "power": [float(x) for x in e.power],
                "mc_se": [float(x) for x in e.mc_se],
                "n_for_power": {
                    f"{round(100 * t)}%": {
                        "n_per_arm": targets[t][key].n_per_arm,
                        "bound": targets[t][key].bound,
                        "text": targets[t][key].text(),
                    }
                    for t in POWER_TARGETS
                },
            }
        )
    return {
        "condition": curve.condition,
        "arms": list(curve.arm_names),
        "sizes_per_arm": list(curve.sizes),
        "replicates": curve.replicates,
        "alpha": curve.alpha,
        "root_seed": curve.root_seed,
        "mc_se": "sqrt(p (1 - p) / replicates)",
        "interpolation": "linear between the sizes around the first crossing, rounded up",
        "endpoints": endpoints,
        "simulated_patient_days": curve.simulated_patient_days,
        "elapsed_s": curve.elapsed_s,
        "design": curve.config.get("design"),
        "sequential": curve.sequential.to_dict() if curve.sequential is not None else None,
        "withdrawal": curve.withdrawal.to_dict() if curve.withdrawal is not None else None,
    }


def power_csv(curve: PowerCurve) -> str:
    """``power.csv``: :data:`CSV_COLUMNS`, one row per comparison, endpoint and size."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for e in curve.endpoints:
        for i, n in enumerate(curve.sizes):
            w.writerow(
                [
                    e.comparison,
                    e.endpoint,
                    e.label,
                    n,
                    curve.replicates,
                    int(e.rejections[i]),
                    f"{e.power[i]:.6g}",
                    f"{e.mc_se[i]:.6g}",
                    f"{curve.alpha:g}",
                ]
            )
    return buf.getvalue()


def power_figure(curve: PowerCurve) -> Figure:
    """Power against patients per arm, one line per comparison and endpoint with ±1.96 MC
    standard errors, the 80 % and 90 % lines and the interpolated sizes marked."""
    from openvns.analysis.plotting import agg_figure, arm_colour

    fig = agg_figure(7.5, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    n = np.asarray(curve.sizes, dtype=float)
    for i, e in enumerate(curve.endpoints):
        colour = arm_colour(i)
        ax.errorbar(
            n,
            100 * e.power,
            yerr=100 * 1.96 * e.mc_se,
            marker="o",
            capsize=3,
            color=colour,
            label=f"{e.comparison}: {e.label}",
        )
        for t in POWER_TARGETS:
            nf = curve.n_for(t)[e.comparison, e.endpoint]
            if nf.bound == "interpolated" and nf.n_per_arm is not None:
                ax.plot([nf.n_per_arm], [100 * t], marker="x", color=colour, markersize=9)
    for t in POWER_TARGETS:
        ax.axhline(100 * t, color="0.6", linestyle="--", linewidth=0.8)
        ax.annotate(
            f"{100 * t:.0f} %",
            (n[0], 100 * t),
            xytext=(2, 2),
            textcoords="offset points",
            fontsize=8,
            color="0.4",
        )
    ax.set_xlabel("patients per arm")
    ax.set_ylabel(f"power, % (two-sided α = {curve.alpha:g})")
    ax.set_ylim(0, 100)
    ax.set_xticks(n)
    ax.set_title(
        f"{curve.condition}: simulated power, {curve.replicates} trials per size\n"
        "bars ±1.96 Monte-Carlo s.e.; × the interpolated n per arm",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def write_power(curve: PowerCurve, directory: str | Path) -> list[Path]:
    """Write ``power.csv``, ``power.json`` and ``power_curve.png`` into ``directory``."""
    from openvns.analysis.plotting import figure_png
    from openvns.files import atomic_write_bytes, atomic_write_text

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = [d / "power.csv", d / "power.json", d / "power_curve.png"]
    atomic_write_text(paths[0], power_csv(curve))
    atomic_write_text(paths[1], json.dumps(power_document(curve), indent=2) + "\n")
    atomic_write_bytes(paths[2], figure_png(power_figure(curve)))
    return paths
