"""``openvns validate``: run every validation target and write the HTML and JSON report.

Exit status 1 when a calibration target fails (or cannot be simulated) unless the registry
declares it unreached (no calibration parameter can reach it; the reason is printed); held-out
failures are shown but do not change the status (docs/validation.md).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from openvns.cli.common import (
    EXIT_BLOCKED,
    check_output_directory,
    console,
    err_console,
    fail,
    guarded,
)

log = logging.getLogger(__name__)


def _sizes(quick: bool, items: list[str] | None) -> object:
    from openvns.trials.validation import QUICK_SIZES, ValidationSizes

    sizes = QUICK_SIZES if quick else ValidationSizes()
    changes: dict[str, int] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            fail(f"--sizes {item!r}: expected NAME=N (names: placebo, trial_per_arm, voice, "
                 "lange, arm, noninvasive)")  # fmt: skip
        changes[key.strip()] = int(value)
    try:
        return sizes.with_(**changes)
    except (KeyError, ValueError) as exc:
        fail(f"--sizes: {exc}")


@guarded
def validate(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for validation.html and validation.json.")
    ] = Path("validation"),
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only this target key (repeatable).")
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Small cohorts: seconds, wide intervals.")
    ] = False,
    sizes: Annotated[
        list[str] | None,
        typer.Option("--sizes", help="Patients per arm, NAME=N (repeatable), e.g. voice=500."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Root seed.")] = 20261125,
    targets: Annotated[
        Path | None,
        typer.Option("--targets", help="Another registry file (default: the shipped one)."),
    ] = None,
) -> None:
    """Run every calibration and held-out target; write DIR/validation.html and .json."""
    check_output_directory(out)
    from openvns.physiology import load_parameters
    from openvns.trials.validation import (
        html_page,
        json_document,
        load_registry,
        run_validation,
    )
    from openvns.trials.validation.report import interval_text, simulated_text

    sz = _sizes(quick, sizes)
    registry = load_registry(targets)
    selected = registry.select(only)
    t0 = time.perf_counter()
    with Progress(
        TextColumn("[bold]validating[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{len(selected)} targets", total=len(selected))

        def progress(result: object, done: int, total: int) -> None:
            bar.update(task, completed=done, description=getattr(result, "key", ""))

        results = run_validation(sizes=sz, root_seed=seed, only=[t.key for t in selected],  # type: ignore[arg-type]
                                 registry=registry, progress=progress)  # fmt: skip
    meta = {
        "parameter set": load_parameters().version,
        "root seed": seed,
        "sizes": str(sz),
        "registry": str(targets)
        if targets
        else "openvns/trials/validation/data/targets.yaml + noninvasive_targets.yaml",
        "seconds": round(time.perf_counter() - t0, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "validation.html").write_text(html_page(results, meta), "utf-8")
    (out / "validation.json").write_text(
        json.dumps(json_document(results, meta), indent=2, ensure_ascii=False), "utf-8"
    )
    table = Table(box=box.SIMPLE_HEAVY, title="Validation targets")
    for col in ("target", "kind", "reference (interval)", "simulated (95 % CI)", "result"):
        table.add_column(col, overflow="fold", no_wrap=col == "target")
    for r in results:
        style = {"pass": "green", "fail": "red", "error": "red"}.get(r.status, "yellow")
        table.add_row(r.key, r.kind, interval_text(r), simulated_text(r),
                      f"[{style}]{r.status}[/]")  # fmt: skip
    console.print(table)
    bad = [r for r in results if r.blocking]
    known = [r for r in results if r.calibration and not r.passed and r.unreached]
    held = [r for r in results if not r.calibration]
    cal = [r for r in results if r.calibration]
    console.print(
        f"calibration {sum(r.passed for r in cal)}/{len(cal)} pass"
        f"{f' ({len(known)} declared unreached)' if known else ''}; held out "
        f"{sum(r.passed for r in held)}/{len(held)} pass; report {out / 'validation.html'}",
        highlight=False,
    )
    for r in known:
        err_console.print(
            f"[yellow]calibration target {r.key}: {r.status}, declared unreached[/] — "
            f"{r.unreached}",
            highlight=False,
        )
    for r in bad:
        err_console.print(
            f"[bold red]calibration target {r.key}: {r.status}[/] — {r.detail}", highlight=False
        )
    if bad:
        raise typer.Exit(EXIT_BLOCKED)
