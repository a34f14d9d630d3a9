"""``openvns nerve``: fibre thresholds under a point source, recruitment under the helical cuff
and the skin electrodes of the non-invasive devices, their sensory thresholds."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich import box
from rich.table import Table

from openvns.cli.common import console, err_console, fail, guarded, progress_bar, quantity
from openvns.device.waveforms import PulseShape, biphasic, monophasic
from openvns.errors import ValidationError

app = typer.Typer(
    help="The nerve: fibre thresholds and recruitment of the vagus.",
    no_args_is_help=True,
)

#: Defaults of the single-fibre reference case (shared/reference/nerve.md, PyFibers cases).
MRG_NODES = 101
C_LENGTH_UM = 10_000.0
DEFAULT_TSTOP_MS = {"MRG": 5.0, "PENA": 5.0, "C": 20.0}
#: Current axis of ``nerve recruit --plot``: up to the implanted generators' 3.5 mA maximum
#: output current (catalogue), sampled every 0.01 mA.
PLOT_MAX_CURRENT_mA = 3.5
PLOT_STEP_mA = 0.01


def _sigma(text: str) -> tuple[float, float, float]:
    parts = [p.strip() for p in text.split(",")]
    allowed = "one conductivity (isotropic) or three, σx,σy,σz, in S/m (e.g. 0.083,0.083,0.571)"
    if len(parts) not in (1, 3):
        raise ValidationError("sigma_S_per_m", text, allowed)
    try:
        values = [float(p) for p in parts]
    except ValueError as exc:
        raise ValidationError("sigma_S_per_m", text, allowed) from exc
    if len(values) == 1:
        values *= 3
    return values[0], values[1], values[2]


def _waveform(kind: str, pulse_width_us: float) -> PulseShape:
    if kind == "monophasic":
        return monophasic(pulse_width_us)
    if kind == "biphasic":
        return biphasic(pulse_width_us, recharge="active", interphase_gap_us=0.0)
    raise ValidationError("waveform", kind, "'monophasic' or 'biphasic'")


@app.command("threshold")
@guarded
def threshold(
    model: Annotated[str, typer.Option("--model", help="MRG, PENA (small MRG) or C.")] = "MRG",
    diameter: Annotated[str, typer.Option("--diameter", help="Fibre diameter, e.g. 5.7um.")] = (
        "5.7um"
    ),
    distance: Annotated[
        str, typer.Option("--distance", help="Electrode–fibre distance, e.g. 1mm.")
    ] = "1mm",
    pulse_width: Annotated[
        str, typer.Option("--pulse-width", help="Cathodic phase width, e.g. 250us.")
    ] = "250us",
    waveform: Annotated[
        str,
        typer.Option(
            "--waveform", help="monophasic (cathodic) or biphasic (symmetric, no interphase gap)."
        ),
    ] = "monophasic",
    sigma: Annotated[
        str, typer.Option("--sigma", help="σ in S/m: 0.3 or σx,σy,σz (z along the fibre).")
    ] = "0.3",
    z_offset_frac: Annotated[
        float,
        typer.Option("--z-offset-frac", help="Electrode offset from the centre node, × ΔZ."),
    ] = 0.0,
    dt: Annotated[str, typer.Option("--dt", help="Time step, e.g. 1us.")] = "1us",
    tstop: Annotated[
        str | None, typer.Option("--tstop", help="Simulated time (default 5ms MRG, 20ms C).")
    ] = None,
    length: Annotated[
        str, typer.Option("--length", help="Length of a C fibre, e.g. 10mm.")
    ] = "10mm",
    rel_tol: Annotated[
        float | None, typer.Option("--rel-tol", help="Relative bracket width (default: solver's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Threshold of one fibre (MRG, PENA: 101 nodes; C: 10 mm) under a point source."""
    from openvns.nerve.fibres import build_fiber
    from openvns.nerve.field import AnalyticField, Medium
    from openvns.nerve.geometry import PointSource
    from openvns.nerve.threshold import find_thresholds

    name = model.upper()
    if name not in DEFAULT_TSTOP_MS:
        raise ValidationError("model", model, "MRG, PENA or C")
    diameter_um = quantity(diameter, "um", "diameter_um")
    distance_um = quantity(distance, "um", "distance_um")
    pw_us = quantity(pulse_width, "us", "pulse_width_us")
    dt_us = quantity(dt, "us", "dt_us")
    tstop_ms = quantity(tstop, "ms", "tstop_ms") if tstop else DEFAULT_TSTOP_MS[name]
    assert diameter_um is not None
    assert distance_um is not None
    assert pw_us is not None
    assert dt_us is not None
    assert tstop_ms is not None
    if not distance_um > 0:
        raise ValidationError("distance_um", distance_um, "a distance > 0 µm")
    if not np.isfinite(z_offset_frac):
        raise ValidationError("z_offset_frac", z_offset_frac, "a finite fraction of ΔZ")
    medium = Medium(_sigma(sigma))
    shape = _waveform(waveform, pw_us)
    if name in ("MRG", "PENA"):
        fiber = build_fiber(name, diameter_um=diameter_um, n_nodes=MRG_NODES)
    else:
        length_um = quantity(length, "um", "length_um")
        fiber = build_fiber("C", diameter_um=diameter_um, length_um=length_um)
    nodes = np.asarray(fiber.node_indices)
    z0 = float(fiber.z_um[int(nodes[len(nodes) // 2])])
    source = PointSource(distance_um, 0.0, z0 + z_offset_frac * float(fiber.delta_z_um))
    ve = AnalyticField(source, medium).potentials(np.zeros(1), np.zeros(1), fiber.z_um)
    extra: dict[str, Any] = {} if rel_tol is None else {"rel_tol": rel_tol}
    t0 = time.perf_counter()
    res = find_thresholds(fiber, ve, shape, dt_us=dt_us, tstop_ms=tstop_ms, **extra)
    wall_s = time.perf_counter() - t0
    thr = float(res.threshold_mA[0])
    out = {
        "threshold_mA": None if not np.isfinite(thr) else thr,
        "model": name,
        "diameter_um": diameter_um,
        "distance_um": distance_um,
        "pulse_width_us": pw_us,
        "waveform": waveform,
        "sigma_S_per_m": list(medium.sigma_S_per_m),
        "z_offset_frac": z_offset_frac,
        "n_sections": int(fiber.n_sections),
        "dt_us": dt_us,
        "tstop_ms": tstop_ms,
        "n_simulations": int(res.n_simulations),
        "wall_s": round(wall_s, 3),
    }
    if as_json:
        typer.echo(json.dumps(out))
        return
    table = Table(title="Fibre threshold (point source)", show_header=False)
    for k, v in out.items():
        table.add_row(k, "none found" if v is None else str(v))
    console.print(table)


#: Most fibres per group ``nerve recruit`` samples: the largest population the sampling error was
#: measured against (data/recruitment.yaml, 16 384); the field features of every fibre are
#: held in memory (a 4096-fibre 3 mm table spends ~40 s on them), and 10^9 would exhaust it.
MAX_FIBRES_PER_GROUP = 16_384
#: Currents tabulated by default: the cuff's and, per skin lead, over the device's range.
DEFAULT_CURRENTS = "0.25,0.5,0.75,1,1.25,1.5,2,2.5,3,3.5"
SKIN_CURRENTS = {
    "gammacore-contacts": "1,2,5,10,20,30,40,60",
    "ear": "0.05,0.1,0.2,0.5,1,2,5,10",
}
LEAD_HELP = (
    "Helical lead (2mm, 3mm) or skin electrode (gammacore-contacts, ear-cymba-conchae, "
    "ear-tragus or ear-clip, ear-lobe)."
)


@contextmanager
def table_progress(
    lead: str, cache_dir: Path | None, no_cache: bool, note: str = ""
) -> Iterator[Callable[[int, int], None]]:
    """The progress callback of a table build: a line saying a table is being built (a
    cached table calls nothing, so says nothing), then a progress bar on stderr."""
    from openvns.nerve.recruitment import default_cache_dir

    where = (
        "not cached (--no-cache)" if no_cache else f"cached in {cache_dir or default_cache_dir()}"
    )
    with progress_bar(f"recruitment table of {lead}", "steps") as tick:
        started = [False]

        def progress(done: int, total: int) -> None:
            if not started[0]:
                started[0] = True
                err_console.print(
                    f"building the recruitment table of lead {lead}: {total} steps, minutes "
                    f"for a full table; it is {where} afterwards{note}",
                    highlight=False,
                    soft_wrap=True,
                )
            tick(done, total)

        yield progress


def fem_stages(lead: str) -> Callable[[str, int, int], None]:
    """A ``stage(name, done, total)`` callback printing the finite-element field's stages on
    stderr (above a progress bar): its mesh and solve take a minute or two at the first step
    of a table built on the FEM field, while the table's own bar waits at 0."""

    def stage(name: str, done: int, total: int) -> None:
        text = (
            f"finite-element field of lead {lead}: done"
            if name == "done"
            else f"finite-element field of lead {lead}: {name} (stage {done + 1} of {total})"
        )
        err_console.print(text, highlight=False, soft_wrap=True)

    return stage


@app.command("recruit")
@guarded
def recruit(
    lead: Annotated[str, typer.Option("--lead", "-l", help=LEAD_HELP)] = "2mm",
    pulse_width: Annotated[
        str, typer.Option("--pulse-width", help="e.g. 250us (gammaCore: its 1000us burst).")
    ] = "250us",
    currents: Annotated[
        str | None,
        typer.Option("--currents", help="Comma-separated currents in mA to tabulate."),
    ] = None,
    n_per_group: Annotated[
        int | None,
        typer.Option(
            "--n-per-group",
            help="Sampled fibres per group (default 4096).",
            min=1,
            max=MAX_FIBRES_PER_GROUP,
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Root seed of the nerve.")] = None,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Table cache (default ~/.cache/openvns).")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write.")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a figure (PNG/SVG/PDF).")] = (
        None
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    field: Annotated[
        str | None,
        typer.Option(
            "--field",
            help="fem (the cuff on the nerve in its tissues, finite elements; the default for a "
            "helical lead) or analytic (point sources, image of the wall; no tissues).",
        ),
    ] = None,
    section: Annotated[
        Path | None,
        typer.Option(
            "--section",
            help="A segmented cross-section to use instead of the sampled nerve: a folder of "
            "ASCENT-style masks (n, i, o or c, s; sample.json) or a JSON polygon file "
            "(openvns.section/1). A helical lead.",
        ),
    ] = None,
    scale: Annotated[
        float | None,
        typer.Option("--scale", help="µm per pixel of --section's masks (default: sample.json)."),
    ] = None,
) -> None:
    """Recruitment of each group of fibres under a lead: the cervical vagus's functional groups
    under a helical cuff; skin, muscle (and, on the neck, vagal) groups under a skin electrode."""
    from openvns.nerve.recruitment import build_recruitment_table, default_field
    from openvns.nerve.transcutaneous import canonical_lead, is_transcutaneous

    pw_us = quantity(pulse_width, "us", "pulse_width_us")
    assert pw_us is not None
    if currents is None:
        currents = DEFAULT_CURRENTS
        if is_transcutaneous(lead):
            name = canonical_lead(lead)
            currents = SKIN_CURRENTS.get(name, SKIN_CURRENTS["ear"])
    try:
        grid = np.array([float(c) for c in currents.split(",")], dtype=np.float64)
    except ValueError as exc:
        raise ValidationError("currents", currents, "comma-separated numbers in mA") from exc
    note = (
        " (the first step meshes and solves the finite-element field: about two minutes)"
        if not is_transcutaneous(lead) and (field or default_field()) == "fem"
        else ""
    )
    nerve = None
    if section is not None:
        from openvns.nerve.segmented import load_section

        nerve = load_section(section, scale_um_per_px=scale)
    elif scale is not None:
        raise ValidationError("scale", scale, "only with --section (the masks' µm per pixel)")
    with table_progress(lead, cache_dir, no_cache, note) as tick:
        table = build_recruitment_table(
            lead,
            n_per_group=n_per_group,
            seed=seed,
            cache_dir=cache_dir,
            use_cache=not no_cache,
            progress=tick,
            field=field,
            nerve=nerve,
            fem_stage=fem_stages(lead),
        )
    curves = table.curves(grid, pw_us)
    if plot is not None:
        top = float(grid.max()) if is_transcutaneous(lead) else PLOT_MAX_CURRENT_mA
        _plot(table, pw_us, lead, plot, top)
    if as_json:
        payload = {
            "lead": lead,
            "pulse_width_us": pw_us,
            "currents_mA": grid.tolist(),
            "fraction": {g: f.tolist() for g, f in curves.items()},
            "key": table.key,
        }
        typer.echo(json.dumps(payload))
        return
    # ten currents and the group names fit 80 columns: the unit is in the title, and neither
    # a current (typed back in --currents) nor a group name is cut
    out = Table(
        title=f"Recruited (%), lead {lead}, {pw_us:g} µs; columns: current (mA)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    out.add_column("group", no_wrap=True)
    for c in grid:
        out.add_column(f"{c:g}", justify="right", no_wrap=True)
    for g, f in curves.items():
        out.add_row(g, *(f"{100 * x:.0f}" for x in f))
    console.print(out)


def _plot(
    table: Any, pw_us: float, lead: str, path: Path, top_mA: float = PLOT_MAX_CURRENT_mA
) -> None:
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        fail("--plot needs matplotlib (pip install matplotlib)")
    step = PLOT_STEP_mA * max(1.0, top_mA / PLOT_MAX_CURRENT_mA)
    fine = np.arange(0.0, top_mA + step / 2, step)
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for g, f in table.curves(fine, pw_us).items():
        ax.step(fine, 100.0 * f, where="post", label=g)
    ax.set_xlabel("current (mA)")
    ax.set_ylabel("recruited (%)")
    ax.set_title(f"Recruitment, lead {lead}, {pw_us:g} µs")
    ax.set_ylim(0, 100)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


@app.command("sensory")
@guarded
def sensory(
    lead: Annotated[
        str, typer.Option("--lead", "-l", help="Skin electrode (ear-tragus, gammacore-contacts …).")
    ] = "ear-tragus",
    pulse_width: Annotated[str, typer.Option("--pulse-width", help="e.g. 250us.")] = "250us",
    coupling: Annotated[
        float, typer.Option("--coupling", help="The patient's threshold multiplier θ.")
    ] = 1.0,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Table cache (default ~/.cache/openvns).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Sensory (perception) threshold of a skin electrode: the current at which the first
    cutaneous Aβ fibre under it fires, times the patient's θ."""
    from openvns.nerve.transcutaneous import canonical_lead, sensory_threshold_mA
    from openvns.nerve.transcutaneous_tables import build_transcutaneous_table

    name = canonical_lead(lead)
    pw_us = quantity(pulse_width, "us", "pulse_width_us")
    assert pw_us is not None
    with table_progress(name, cache_dir, False) as tick:
        table = build_transcutaneous_table(name, cache_dir=cache_dir, progress=tick)
    thr = float(sensory_threshold_mA(name, pw_us, coupling, table=table))
    out = {"lead": name, "pulse_width_us": pw_us, "coupling": coupling,
           "sensory_threshold_mA": None if not np.isfinite(thr) else thr}  # fmt: skip
    if as_json:
        typer.echo(json.dumps(out))
        return
    table_out = Table(title="Sensory threshold", show_header=False)
    for k, v in out.items():
        table_out.add_row(k, "none below the solver's range" if v is None else str(v))
    console.print(table_out)
