"""``openvns trial uncertainty`` and ``openvns trial sensitivity``: how much a trial's result
depends on the model's assumed values (commands of the ``trial`` group)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from openvns.cli.common import (
    check_output_directory,
    console,
    fail,
    guarded,
    progress_bar,
)
from openvns.cli.trial import (
    ConfigOption,
    ExecutorOption,
    NPerArmOption,
    SchedulerOption,
    SeedOption,
    WorkersOption,
    app,
    configure,
)

log = logging.getLogger(__name__)


@contextmanager
def _bar(what: str) -> Iterator[Callable[[int, int], None]]:
    """The shared progress bar (plain lines where stderr is not a terminal)."""
    with progress_bar(what, "trials") as progress:
        yield progress


def _g(x: Any, digits: int = 3) -> str:
    return f"{float(x):.{digits}g}"


@app.command("uncertainty")
@guarded
def uncertainty(
    config: ConfigOption = None,
    samples: Annotated[
        int, typer.Option("--samples", "-n", help="Parameter sets to sample (≥ 2).")
    ] = 64,
    method: Annotated[
        str, typer.Option("--method", help="lhs (Latin hypercube) or sobol (a power of 2).")
    ] = "lhs",
    common_seed: Annotated[
        bool,
        typer.Option(
            "--common-seed",
            help="Every set on the configuration's patients (the parameters' spread alone); by "
            "default each set runs its own patients (parameters and sampling error together).",
        ),
    ] = False,
    n_per_arm: NPerArmOption = None,
    seed: SeedOption = None,
    executor: ExecutorOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path(
        "openvns-uncertainty"
    ),
) -> None:
    """Prediction intervals of every blinded-phase endpoint over the plausible ranges of the
    model's assumed values: samples parameter sets, runs the trial on each, and writes
    samples.csv, intervals.csv, uncertainty.json and uncertainty.png."""
    from openvns.trials.uncertainty import default_endpoint, run_uncertainty
    from openvns.trials.uncertainty_output import write_uncertainty

    cfg = configure(
        config,
        n_per_arm=n_per_arm,
        seed=seed,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
    )
    directory = check_output_directory(out, "--out")
    with _bar(f"{samples} parameter sets × {cfg.run.n_per_arm} per arm") as progress:
        result = run_uncertainty(
            cfg, samples, method=method, common_seed=common_seed, progress=progress
        )
    table = result.intervals()
    primary = default_endpoint(cfg.design)
    console.print(
        f"{cfg.run.condition}: {len(result.assumptions)} assumed values varied over their "
        f"ranges, {samples} parameter sets ({method}), "
        + ("common patients" if common_seed else "each set its own patients"),
        highlight=False,
    )
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("endpoint", "median", "95% PI", "param."):
        t.add_column(col, justify="left" if col == "endpoint" else "right", no_wrap=True)
    for row in table.to_dict(orient="records"):
        share = float(row["parameter_share"])
        t.add_row(
            str(row["endpoint"]),
            _g(row["median"]),
            f"[{_g(row['pi_low'])}, {_g(row['pi_high'])}]",
            f"{100 * share:.0f}%" if share == share else "—",
        )
    console.print(t)
    console.print(
        "PI: 2.5–97.5 % of the estimates over the parameter sets; param.: the share of their "
        "variance the parameters add beyond the trials' own sampling error (law of total "
        "variance; SDs in intervals.csv)",
        highlight=False,
    )
    for path in write_uncertainty(result, directory, primary=primary):
        console.print(f"wrote {path}", highlight=False)


@app.command("sensitivity")
@guarded
def sensitivity(
    config: ConfigOption = None,
    method: Annotated[str, typer.Option("--method", help="sobol or morris.")] = "sobol",
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            help="An endpoint of `trial uncertainty` (e.g. active-sham.change_NRS, the default; "
            "active.responders_30; sham.dropout_blinded).",
        ),
    ] = None,
    base_samples: Annotated[
        int, typer.Option("--base-samples", help="Sobol base samples N (a power of 2).")
    ] = 256,
    trajectories: Annotated[
        int, typer.Option("--trajectories", help="Morris trajectories r.")
    ] = 20,
    n_per_arm: NPerArmOption = None,
    seed: SeedOption = None,
    executor: ExecutorOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path(
        "openvns-sensitivity"
    ),
) -> None:
    """Global sensitivity (SALib) of one endpoint to every ranged assumed value: first-order and
    total Sobol indices with 95 % CIs, or Morris μ* and σ; writes sensitivity.csv,
    sensitivity_runs.csv, sensitivity.json and sensitivity.png."""
    from openvns.trials.assumptions import ranged_assumptions
    from openvns.trials.sensitivity import run_sensitivity
    from openvns.trials.uncertainty import check_endpoint, default_endpoint
    from openvns.trials.uncertainty_output import write_sensitivity

    cfg = configure(
        config,
        n_per_arm=n_per_arm,
        seed=seed,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
    )
    directory = check_output_directory(out, "--out")
    name = check_endpoint(endpoint or default_endpoint(cfg.design), cfg.design, cfg.run.condition)
    d = len(ranged_assumptions(cfg.design, cfg.run.condition, endpoint=name))
    runs = base_samples * (d + 2) if method == "sobol" else trajectories * (d + 1)
    try:
        with _bar(f"{method}: {runs} trials × {cfg.run.n_per_arm} per arm") as progress:
            result = run_sensitivity(
                cfg,
                method=method,
                endpoint=name,
                base_samples=base_samples,
                trajectories=trajectories,
                progress=progress,
            )
    except ImportError as exc:
        fail(str(exc))
    ranked = result.ranked()
    console.print(
        f"{result.endpoint}: {method} over {len(result.assumptions)} assumed values, "
        f"{result.runs} trials (common patients); the 15 that drive it most:",
        highlight=False,
    )
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    cols = ("ST", "ST_conf", "S1", "S1_conf") if method == "sobol" else (
        "mu_star", "mu_star_conf", "sigma", "mu")  # fmt: skip
    t.add_column("parameter", no_wrap=True)
    for col in cols:
        t.add_column(col.replace("_conf", " ±"), justify="right", no_wrap=True)
    for key, row in ranked.head(15).iterrows():
        t.add_row(str(key), *(_g(row[c], 2) for c in cols))
    console.print(t)
    for path in write_sensitivity(result, directory):
        console.print(f"wrote {path}", highlight=False)
