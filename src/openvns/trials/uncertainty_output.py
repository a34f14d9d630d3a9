"""Files and figures of ``openvns trial uncertainty`` and ``openvns trial sensitivity``.

Each writer puts a CSV (one row per parameter set, or per parameter), a second CSV or JSON of
the summary and a PNG figure in a directory and returns their paths; matplotlib is imported
only here, when a figure is drawn.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from openvns.trials.sensitivity import SensitivityResult
from openvns.trials.uncertainty import UncertaintyResult

log = logging.getLogger(__name__)

__all__ = ["write_sensitivity", "write_uncertainty"]

#: Parameters shown in the sensitivity figure (the most influential).
TOP = 20


def _assumption_rows(result: UncertaintyResult | SensitivityResult) -> list[dict[str, Any]]:
    return [
        {
            "key": a.key,
            "set": a.set_name,
            "name": a.name,
            "value": a.value,
            "unit": a.unit,
            "low": a.range.low if a.range else None,
            "high": a.range.high if a.range else None,
            "reason": a.range.reason if a.range else None,
        }
        for a in result.assumptions
    ]


def write_uncertainty(
    result: UncertaintyResult, directory: str | Path, primary: str | None = None
) -> list[Path]:
    """``samples.csv`` (each parameter set and its endpoints), ``intervals.csv``,
    ``uncertainty.json`` (intervals, assumptions, how the sets were drawn) and
    ``uncertainty.png`` (the primary endpoint over the sets; the shares' prediction intervals)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    samples, intervals = out / "samples.csv", out / "intervals.csv"
    result.samples_frame().to_csv(samples, index=False)
    table = result.intervals()
    table.to_csv(intervals, index=False)
    doc = {
        "method": result.method,
        "samples": int(result.values.shape[0]),
        "n_per_arm": result.n_per_arm,
        "root_seed": result.root_seed,
        "seeds": "common (the configuration's patients)"
        if result.common_seed
        else "one per parameter set (parameter uncertainty and sampling error together)",
        "intervals": table.to_dict(orient="records"),
        "assumptions": _assumption_rows(result),
    }
    (out / "uncertainty.json").write_text(json.dumps(doc, indent=2, default=float) + "\n")
    figure = out / "uncertainty.png"
    _uncertainty_figure(result, table, figure, primary)
    return [samples, intervals, out / "uncertainty.json", figure]


def _uncertainty_figure(
    result: UncertaintyResult, table: Any, path: Path, primary: str | None
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = result.evaluation.endpoints
    key = primary if primary in names else next((k for k in names if "-" in k), names[0])
    x = result.evaluation.estimate[key]
    row = table.set_index("endpoint").loc[key]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5))
    a.hist(x[np.isfinite(x)], bins=max(5, min(40, x.shape[0] // 4)), color="#4c72b0")
    a.axvspan(row["pi_low"], row["pi_high"], color="#dd8452", alpha=0.2, label="95 % PI")
    a.axvline(row["median"], color="k", lw=1, label="median")
    a.axvline(0.0, color="grey", lw=0.8, ls=":")
    a.set_xlabel(key)
    a.set_ylabel("parameter sets")
    a.set_title(f"{key} over {x.shape[0]} parameter sets ({result.method})")
    a.legend(frameon=False, loc="upper right")
    shares = table[table["endpoint"].str.contains("responders|dropout|side_effect|pgic")]
    y = np.arange(len(shares))
    b.errorbar(
        100 * shares["median"],
        y,
        xerr=[
            100 * (shares["median"] - shares["pi_low"]),
            100 * (shares["pi_high"] - shares["median"]),
        ],
        fmt="o",
        color="#4c72b0",
        capsize=3,
    )
    b.axvline(0.0, color="grey", lw=0.8, ls=":")
    b.set_yticks(y, list(shares["endpoint"]), fontsize=7)
    b.invert_yaxis()
    b.set_xlabel("% (median and 95 % prediction interval)")
    b.set_title("shares and differences of shares")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_sensitivity(result: SensitivityResult, directory: str | Path) -> list[Path]:
    """``sensitivity.csv`` (indices per parameter with its set, unit and range),
    ``sensitivity_runs.csv`` (each trial's parameters and endpoint), ``sensitivity.json`` and
    ``sensitivity.png`` (the most influential parameters)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    ranked = result.ranked()
    csv = out / "sensitivity.csv"
    ranked.to_csv(csv)
    runs = out / "sensitivity_runs.csv"
    import pandas as pd

    frame = pd.DataFrame(result.values, columns=[a.key for a in result.assumptions])
    frame[result.endpoint] = result.y
    frame.to_csv(runs, index_label="run")
    doc = {
        "method": result.method,
        "endpoint": result.endpoint,
        "runs": result.runs,
        "base_samples" if result.method == "sobol" else "trajectories": result.base_samples,
        "indices": ranked.reset_index().to_dict(orient="records"),
        "assumptions": _assumption_rows(result),
    }
    (out / "sensitivity.json").write_text(json.dumps(doc, indent=2, default=float) + "\n")
    figure = out / "sensitivity.png"
    _sensitivity_figure(result, ranked, figure)
    return [csv, runs, out / "sensitivity.json", figure]


def _sensitivity_figure(result: SensitivityResult, ranked: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = ranked.head(TOP)
    y = np.arange(len(top))
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(top) + 1.8))
    if result.method == "sobol":
        ax.barh(y - 0.2, top["ST"], 0.4, xerr=top["ST_conf"], label="total (ST)", color="#4c72b0")
        ax.barh(
            y + 0.2, top["S1"], 0.4, xerr=top["S1_conf"], label="first order (S1)", color="#dd8452"
        )
        ax.set_xlabel("Sobol index (share of the endpoint's variance; 95 % CI)")
    else:
        ax.barh(y, top["mu_star"], 0.6, xerr=top["mu_star_conf"], label="μ*", color="#4c72b0")
        ax.plot(top["sigma"], y, "k|", ms=10, label="σ")
        ax.set_xlabel(f"Morris μ* and σ ({result.endpoint} per whole range)")
    ax.set_yticks(y, list(top.index), fontsize=7)
    ax.invert_yaxis()
    ax.legend(frameon=False, loc="lower right")
    ax.set_title(f"what drives {result.endpoint} ({result.method}, {result.runs} trials)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
