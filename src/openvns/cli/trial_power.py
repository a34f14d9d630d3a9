"""``openvns trial power``: simulated power per endpoint and the sample size for 80 % / 90 %.

A randomised-withdrawal design's first row is its own endpoint, the loss of response among the
run-in responders (withdrawn − continued; :mod:`openvns.trials.power_withdrawal`), followed by
the run-in responders per arm and the share of them who lost the response at each size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
    SchedulerOption,
    SeedOption,
    WorkersOption,
    app,
    configure,
)

__all__ = ["parse_sizes", "power"]


def parse_sizes(text: str) -> list[int]:
    """``"50,100,200"`` → ``[50, 100, 200]``; anything else exits naming ``--n``."""
    sizes = []
    for part in text.split(","):
        token = part.strip()
        if not token.isdigit() or not token.isascii():
            fail(
                f"--n: {token!r} is not allowed; allowed: whole numbers of patients per arm "
                "≥ 2, separated by commas (50,100,200,400)"
            )
        sizes.append(int(token))
    return sizes


@app.command("power")
@guarded
def power(
    config: ConfigOption = None,
    n: Annotated[
        str, typer.Option("--n", help="Patients per arm to simulate, comma-separated.")
    ] = "50,100,200,400",
    replicates: Annotated[
        int, typer.Option("--replicates", "-r", help="Simulated trials per size.")
    ] = 200,
    alpha: Annotated[float, typer.Option("--alpha", help="Two-sided level of the tests.")] = 0.05,
    condition: Annotated[
        str | None, typer.Option("--condition", help="The condition (as `trial run`).")
    ] = None,
    seed: SeedOption = None,
    executor: ExecutorOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output directory (the config's).")
    ] = None,
) -> None:
    """Simulated power of every blinded-phase endpoint at each --n, its Monte-Carlo error, and
    the n per arm for 80 % and 90 % power; writes power.csv, power.json and power_curve.png. A
    randomised-withdrawal design adds its loss of response among the run-in responders."""
    from openvns.trials.power import power_curve
    from openvns.trials.power_output import POWER_TARGETS, write_power

    sizes = parse_sizes(n)
    cfg = configure(
        config,
        condition=condition,
        seed=seed,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
    )
    directory = Path(out) if out is not None else Path(cfg.output.directory)
    directory = check_output_directory(directory, "--out")
    with progress_bar(f"power: {replicates} trials × {len(sizes)} sizes", "patients") as progress:
        curve = power_curve(
            cfg.design,
            sizes,
            replicates=replicates,
            root_seed=cfg.run.root_seed,
            parameters=cfg.model_parameters(),
            alpha=alpha,
            executor=cfg.run.executor,  # type: ignore[arg-type]
            workers=cfg.run.workers,
            scheduler=cfg.run.scheduler,
            chunk_size=cfg.run.chunk_size,
            progress=progress,
        )
    comparisons = list(dict.fromkeys(e.comparison for e in curve.endpoints))
    single = len(comparisons) == 1
    if single:
        compared = comparisons[0]
    elif curve.withdrawal is not None:  # withdrawn − continued, then first − second
        compared = " and ".join(comparisons)
    else:
        compared = curve.arm_names[0] + " − each other arm"
    console.print(
        f"[bold]{curve.condition}[/]: simulated power (two-sided α = {curve.alpha:g}, "
        f"{curve.replicates} trials per size; ± Monte-Carlo s.e. √(p(1−p)/R)), {compared}",
        highlight=False,
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("endpoint", no_wrap=False)
    for size in curve.sizes:
        table.add_column(f"n={size}", justify="right", no_wrap=True)
    for t in POWER_TARGETS:
        table.add_column(f"n {100 * t:.0f}%", justify="right", no_wrap=True)
    targets = {t: curve.n_for(t) for t in POWER_TARGETS}
    for e in curve.endpoints:
        cells = [f"{100 * p:.0f}±{100 * s:.0f}%" for p, s in zip(e.power, e.mc_se, strict=True)]
        key = (e.comparison, e.endpoint)
        cells += [targets[t][key].text() for t in POWER_TARGETS]
        table.add_row(e.label if single else f"{e.comparison}: {e.label}", *cells)
    console.print(table)
    if curve.sequential is not None:
        for line in curve.sequential.lines():
            console.print(line, highlight=False)
    if curve.withdrawal is not None:
        for line in curve.withdrawal.lines():
            console.print(line, highlight=False)
    console.print(
        f"n per arm for 80 %/90 % power: linear between the sizes around the first crossing "
        f"({curve.simulated_patient_days:,} patient-days in {curve.elapsed_s:.1f} s)",
        highlight=False,
    )
    for path in write_power(curve, directory):
        console.print(f"wrote {path}", highlight=False)
