"""``openvns trial``: run an in-silico trial (the project's main job) and write its report."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from openvns.cli.common import (
    check_output_directory,
    console,
    err_console,
    fail,
    guarded,
    progress_bar,
)
from openvns.trials.config import TrialConfig, dumps_toml, load_config

app = typer.Typer(
    help="In-silico trials: virtual patients on VNS protocols against sham.",
    no_args_is_help=True,
)
log = logging.getLogger(__name__)
#: Options every trial command shares (``run``, ``power``, ``uncertainty``, ``sensitivity``).
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="A trial.toml (see `openvns trial init`).")
]
NPerArmOption = Annotated[
    int | None, typer.Option("--n-per-arm", help="Patients per unit of allocation ratio.")
]
SeedOption = Annotated[int | None, typer.Option("--seed", help="Root seed.")]
ExecutorOption = Annotated[str | None, typer.Option("--executor", help="serial, process or dask.")]
WorkersOption = Annotated[int | None, typer.Option("--workers", help="Processes / workers.")]
SchedulerOption = Annotated[
    str | None, typer.Option("--scheduler", help="Dask scheduler address, tcp://host:8786 (dask).")
]


def configure(
    config: Path | None,
    *,
    condition: str | None = None,
    n_per_arm: int | None = None,
    seed: int | None = None,
    executor: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> TrialConfig:
    """The trial.toml (or the defaults) with the command line's run options over it; a
    ``--scheduler`` without ``--executor`` means Dask."""
    cfg = load_config(config) if config is not None else TrialConfig()
    if scheduler is not None and executor is None:
        executor = "dask"
    return cfg.with_run(
        condition=condition,
        n_per_arm=n_per_arm,
        root_seed=seed,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
    )


#: Most simulated trials ``trial run --power-replicates`` takes (``trial power`` for more).
MAX_POWER_REPLICATES = 2000

_INIT_HEADER = """OpenVNS trial configuration (openvns trial run --config trial.toml).
Every table is optional; what is left out takes the default shown here.
[run] executor: serial | process | dask; scheduler: a Dask address (tcp://host:8786), dask only.
[output] formats: csv and/or parquet (one row per patient-day).
[trial] protocols: "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA;
  20 Hz; 250 us; 30 s on / 5 min off" or a constant "1.5 mA; 20 Hz; ..."; arm kinds: active,
  sham, low_dose, standard_of_care; [trial.crossover] period_days, washout_days for an AB/BA
  crossover. Non-invasive devices, headache conditions and designs: examples/trials/*.toml.
[physiology] and [condition]: overrides of the shipped parameter sets (names
  in openvns/physiology/data/vns_pain_model.yaml and openvns/patients/data/conditions.yaml)."""


def _atomic_text(path: Path, text: str) -> None:
    from openvns.files import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)


def _pct(iv: Any) -> str:
    est, lo, hi = (100 * float(x) for x in (iv.estimate, iv.lower, iv.upper))
    return f"{est:.0f}% [{lo:.0f}–{hi:.0f}]"


def summary_document(result: Any) -> dict[str, Any]:
    """Blinded-phase endpoints of a :class:`TrialResult` as a JSON-able dict."""
    s = result.summary()
    arms: dict[str, Any] = {}
    for name, a in s.arms.items():
        sel = result.arm == result.arm_names.index(name)
        ch = a.change_NRS
        arms[name] = {
            "randomised": int(sel.sum()),
            "eligible": int(a.n),
            "analysed": int(ch.n),
            "change_NRS": [float(ch.estimate), float(ch.lower), float(ch.upper)],
            "responders_30": _interval(a.responders_30.proportion()),
            "responders_50": _interval(a.responders_50.proportion()),
            "dropout_blinded": float(
                np.mean(
                    (result.dropout_day[sel] >= 0)
                    & (
                        result.dropout_day[sel]
                        < result.design.baseline_days + result.design.blinded_days
                    )
                )
            ),
        }
        if name in s.outcomes:
            arms[name]["outcomes"] = _outcomes_entry(s.outcomes[name])
    ref = result.arm_names[0]
    from openvns.trials.summary import effects_document

    comparisons: dict[str, Any] = {}
    for name, cmp in s.comparisons.items():
        entry: dict[str, Any] = {"difference": f"{ref} − {name}"}
        for key, c in (
            ("change_NRS", cmp.change_NRS),
            ("responders_30", cmp.responders_30),
            ("responders_50", cmp.responders_50),
        ):
            entry[key] = {
                "estimate": float(c.estimate),
                "ci": [float(c.lower), float(c.upper)],
                "p_value": float(c.p_value),
                "method": c.method,
            }
        oc = s.outcome_comparisons.get(name)
        if oc is not None:
            pairs = [("pgic_much_improved", oc.pgic_improved)]
            for key, c in oc.change.items():
                pairs += [(f"{key}_change", c), (f"{key}_responders", oc.responders[key])]
            for key, c in pairs:
                entry[key] = {
                    "estimate": _finite_or_none(c.estimate),
                    "ci": [_finite_or_none(c.lower), _finite_or_none(c.upper)],
                    "p_value": _finite_or_none(c.p_value),
                    "method": c.method,
                }
        lr = cmp.time_to_response
        entry["time_to_response"] = {
            "median_weeks": [
                _finite_or_none(s.time_to_response[ref].median_weeks()),
                _finite_or_none(s.time_to_response[name].median_weeks()),
            ],
            "p_value": _finite_or_none(lr.p_value) if lr is not None else None,
            "method": "log-rank",
        }
        entry.update(effects_document(cmp))
        comparisons[name] = entry
    from openvns.trials.adverse_events import safety_document
    from openvns.trials.baseline_table import baseline_table
    from openvns.trials.phase_endpoints import phase_endpoints_document
    from openvns.trials.report_headache import crossover_document, headache_document

    return {
        "condition": result.condition,
        "patients": result.n_patients,
        "days": result.n_days,
        "arms": arms,
        "baseline": baseline_table(result).to_dict() if result.design.baseline_days else None,
        "consort": _consort_document(result),
        "comparisons": comparisons,
        "phase_endpoints": phase_endpoints_document(result),
        "interim": _interim_document(result),
        "withdrawal": _withdrawal_document(result),
        "adverse_events": safety_document(result),
        "headache": headache_document(result),
        "crossover": crossover_document(result),
        "root_seed": result.root_seed,
        "version": result.version,
        "rng_scheme": result.rng_scheme,
        "config_hash": result.config_hash,
    }


def _consort_document(result: Any) -> dict[str, Any] | None:
    """The CONSORT flow's counts (``None`` without a baseline or a blinded phase)."""
    if not (result.design.baseline_days and result.design.blinded_days):
        return None
    from openvns.trials.consort import consort_flow

    return consort_flow(result).to_dict()


def _print_flow(doc: dict[str, Any] | None) -> None:
    """Two lines of the CONSORT flow: enrolment, then discontinuations per arm."""
    if doc is None:
        return
    reasons = "; ".join(f"{r}: {n}" for r, n in doc["excluded_by_reason"].items())
    console.print(
        f"Flow: screened {doc['screened']}, excluded {doc['excluded']}"
        + (f" ({reasons})" if reasons else "")
        + f", randomised {doc['randomised']}",
        highlight=False,
    )
    parts = []
    for name, arm in doc["arms"].items():
        blinded, ol = (sum(arm["discontinued"][p].values()) for p in arm["discontinued"])
        parts.append(f"{name} {blinded} + {ol}")
    console.print(
        "  discontinued (blinded phase + open label): " + ", ".join(parts), highlight=False
    )


def _interim_document(result: Any) -> dict[str, Any] | None:
    """The design's interim analysis and what it decided (``None`` without one)."""
    interim = result.design.interim
    if interim is None:
        return None
    from openvns.trials.interim import interim_outcome

    return interim_outcome(result, interim).to_dict() | {
        "information_fraction": interim.information_fraction,
        "alpha": interim.alpha,
        "futility_z": interim.futility_z,
    }


def _withdrawal_document(result: Any) -> dict[str, Any] | None:
    """Loss of response among the run-in responders (``None`` without a withdrawal design)."""
    if result.design.withdrawal is None:
        return None
    from openvns.trials.withdrawal import withdrawal_outcome

    doc = withdrawal_outcome(result).to_dict()
    doc["difference"] = [_finite_or_none(x) for x in doc["difference"]]
    if "time_to_loss" in doc:
        doc["time_to_loss"]["logrank_p"] = _finite_or_none(doc["time_to_loss"]["logrank_p"])
    return {k: _finite_or_none(v) if isinstance(v, float) else v for k, v in doc.items()}


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _outcomes_entry(o: Any) -> dict[str, Any]:
    """An arm's PGIC, BPI interference, FIQR and sleep endpoints (baseline to the end of the
    blinded phase), each share with its MCID."""
    share = o.pgic_improved
    doc: dict[str, Any] = {
        "pgic_much_improved": {
            "share": _interval(share.proportion()), "count": share.count, "n": share.n,
            "mcid": {"value": share.threshold, "unit": share.unit},
        },
    }  # fmt: skip
    for key, ch in o.changes().items():
        m, r = ch.mean_change(), ch.responders
        doc[key] = {
            "change": [_finite_or_none(float(x)) for x in (m.estimate, m.lower, m.upper)],
            "analysed": int(m.n),
            "responders": _interval(r.proportion()),
            "mcid": {"value": r.threshold, "unit": r.unit},
        }
    return doc


def _interval(iv: Any) -> list[float]:
    return [float(iv.estimate), float(iv.lower), float(iv.upper)]


def _print_summary(result: Any, doc: dict[str, Any]) -> None:
    from openvns.analysis.endpoints import endpoint_weeks

    first_week, last_week = endpoint_weeks(result.design.blinded_days)
    console.print(
        f"[bold]{result.condition}[/], blinded phase: change from baseline to weeks "
        f"{first_week}–{last_week} (eligible patients; n randomised, analysed)",
        highlight=False,
    )
    _print_flow(doc.get("consort"))
    s = result.summary()
    table = _arm_table(("n (an.)", "Δ NRS [95% CI]", "≥30% resp.", "≥50% resp.", "drop"), s.arms)
    for name, a in s.arms.items():
        arm = doc["arms"][name]
        ch = a.change_NRS
        table.add_row(
            name,
            f"{arm['randomised']} ({arm['analysed']})",
            f"{float(ch.estimate):+.2f} [{float(ch.lower):+.2f}, {float(ch.upper):+.2f}]",
            _pct(a.responders_30.proportion()),
            _pct(a.responders_50.proportion()),
            f"{100 * arm['dropout_blinded']:.0f}%",
        )
    console.print(table)
    _print_outcomes(result, s)
    _print_phase_endpoints(result)
    _print_adverse_events(result)
    _print_interim(doc.get("interim"), result.arm_names)
    _print_withdrawal(doc.get("withdrawal"), result.arm_names)
    ref = result.arm_names[0]
    for name, c in s.comparisons.items():
        console.print(
            f"{ref} − {name}: Δ NRS {c.change_NRS.estimate:+.2f} "
            f"[{c.change_NRS.lower:+.2f}, {c.change_NRS.upper:+.2f}], p = "
            f"{c.change_NRS.p_value:.3g}; ≥30 % responders {100 * c.responders_30.estimate:+.1f} "
            f"points, p = {c.responders_30.p_value:.3g}",
            highlight=False,
        )
        g = c.hedges_g
        console.print(
            f"  Hedges' g {g.estimate:+.2f} [{g.lower:+.2f}, {g.upper:+.2f}] (noncentral t)",
            highlight=False,
        )
        for pct, nnt in ((30, c.nnt_30), (50, c.nnt_50)):
            console.print(f"  NNT, ≥{pct} % responders: {nnt.describe()}", highlight=False)
        t = doc["comparisons"][name]["time_to_response"]
        weeks = ["not reached" if m is None else f"{m:g}" for m in t["median_weeks"]]
        p_text = "—" if t["p_value"] is None else f"{t['p_value']:.3g}"
        console.print(
            f"  weeks to a ≥30 % response (median, {ref} vs {name}): {weeks[0]} vs {weeks[1]}, "
            f"log-rank p = {p_text}",
            highlight=False,
        )
    _print_headache(doc.get("headache"))
    _print_crossover(doc.get("crossover"))
    console.print(
        f"root seed {result.root_seed} · openvns {result.version} · {result.rng_scheme} · "
        f"config {result.config_hash[:12]}",
        highlight=False,
    )


def _arm_table(columns: Sequence[str], arms: Iterable[str]) -> Table:
    """A table of one row per arm: the arm names (which a trial.toml refers to) are never cut
    or wrapped; the other columns wrap at their spaces (an interval under its estimate) where
    the terminal is narrow, so that the table fits 80 columns."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("arm", justify="left", width=max([len("arm"), *map(len, arms)]))
    for col in columns:
        table.add_column(col, justify="right", overflow="fold")
    return table


def _ci(v: list[float | None], digits: int = 2, sign: bool = False) -> str:
    """``est [lo, hi]`` of a ``[estimate, lower, upper]`` list (``—`` where undefined)."""
    f = f"{{:+.{digits}f}}" if sign else f"{{:.{digits}f}}"
    est, lo, hi = v
    if est is None:
        return "—"
    text = f.format(est)
    return text if lo is None or hi is None else f"{text} [{f.format(lo)}, {f.format(hi)}]"


def _share(v: list[float | None]) -> str:
    est, lo, hi = v
    if est is None:
        return "—"
    if lo is None or hi is None:
        return f"{100 * est:.0f}%"
    sep = "–" if lo >= 0 else ", "
    return f"{100 * est:.0f}% [{100 * lo:.0f}{sep}{100 * hi:.0f}]"


def _p(p: float | None) -> str:
    return "—" if p is None else f"{p:.3g}"


def _print_headache(doc: dict[str, Any] | None) -> None:
    """The headache endpoints of ``summary.json``'s ``headache`` entry: per measure a table of
    the arms and a line per comparison; the acute endpoint per arm and its comparisons."""
    if not doc:
        return
    for measure, m in doc["measures"].items():
        primary = " (primary)" if measure == doc["primary"] else ""
        console.print(
            f"headache prevention{primary}: {m['unit']}, baseline vs the end of the blinded "
            "phase (eligible patients)",
            highlight=False,
        )
        table = _arm_table(
            ("n", "baseline", "endpoint", "change [95% CI]", "≥30%", "≥50%", "100%"), m["arms"]
        )
        for name, a in m["arms"].items():
            r = a["responders"]
            table.add_row(
                name, str(a["patients"]), _ci(a["baseline_rate"]), _ci(a["endpoint_rate"]),
                _ci(a["change"], sign=True), _share(r["30"]["share"]), _share(r["50"]["share"]),
                _share(r["100"]["share"]),
            )  # fmt: skip
        console.print(table)
        for c in m["comparisons"].values():
            ch, r50, rr = c["change"], c["responders"]["50"], c["rate_ratio"]
            rr_text = (
                "rate ratio not estimable (no event in an arm)"
                if rr is None
                else f"NB rate ratio {_ci([rr['estimate'], *rr['ci']], 3)}, p = {_p(rr['p_value'])}"
            )
            est50 = "—" if r50["estimate"] is None else f"{100 * r50['estimate']:+.1f}"
            console.print(
                f"{c['difference']}: change {_ci([ch['estimate'], *ch['ci']], sign=True)}, "
                f"p = {_p(ch['p_value'])}; ≥50 % responders {est50} points, "
                f"p = {_p(r50['p_value'])}; {rr_text}",
                highlight=False,
            )
    acute = doc.get("acute")
    if not acute:
        return
    console.print(
        f"acute treatment ({acute['endpoint']}): first treated attack and the mean per-patient "
        "share of treated attacks that succeeded",
        highlight=False,
    )
    table = _arm_table(("patients", "first attack", "per patient", "attacks"), acute["arms"])
    for name, a in acute["arms"].items():
        table.add_row(name, str(a["patients"]), _share(a["first_attack"]),
                      _share(a["per_patient"]), str(a["attacks"]))  # fmt: skip
    console.print(table)
    for c in acute["comparisons"].values():
        f = c["first_attack"]
        est = "—" if f["estimate"] is None else f"{100 * f['estimate']:+.1f}"
        console.print(
            f"{c['difference']}: first attack {est} points, p = {_p(f['p_value'])} ({f['method']})",
            highlight=False,
        )


def _print_crossover(doc: dict[str, Any] | None) -> None:
    """The Hills–Armitage analysis of ``summary.json``'s ``crossover`` entry."""
    if not doc:
        return
    a, b = doc["treatments"]
    w = doc["windows"][0]
    console.print(
        f"crossover (Hills–Armitage; the arms above are the sequences): {doc['unit']} over the "
        f"last {w[1] - w[0]} days of each period; sequence means, period 1 / period 2:",
        highlight=False,
    )
    for seq, means in doc["means"].items():
        console.print(f"  {seq}: {_ci(means['1'])} / {_ci(means['2'])}", highlight=False)
    if "error" in doc:
        console.print(f"  not analysed: {doc['error']}", highlight=False)
        return
    for key, label in (("treatment", f"treatment {a} − {b}"), ("period", "period 1 − 2"),
                       ("carryover", "carry-over"),
                       ("first_period", f"period 1 only, {a} − {b}")):  # fmt: skip
        c = doc[key]
        console.print(
            f"  {label}: {_ci([c['estimate'], *c['ci']], sign=True)}, p = {_p(c['p_value'])}",
            highlight=False,
        )
    console.print(
        f"  analysed {doc['n_ab']} + {doc['n_ba']} patients, {doc['n_excluded']} left out",
        highlight=False,
    )


def _print_outcomes(result: Any, s: Any) -> None:
    """PGIC, BPI interference, FIQR and sleep by arm (visits: end of baseline, end of blinded)."""
    if not s.outcomes:
        return
    from openvns.patients.outcomes import mcid

    keys = [k for k in ("bpi_interference", "fiqr", "sleep")
            if any(k in o.changes() for o in s.outcomes.values())]  # fmt: skip
    label = {"bpi_interference": "BPI", "fiqr": "FIQR", "sleep": "sleep"}
    columns = [f"PGIC≤{mcid('pgic').value:g}"]
    for k in keys:
        unit = "%" if k == "fiqr" else ""
        columns += [f"Δ {label[k]}", f"≥{mcid(k).value:g}{unit}"]
    table = _arm_table(columns, s.outcomes)
    for name, o in s.outcomes.items():
        row = [name, f"{100 * float(o.pgic_improved.proportion().estimate):.0f}%"]
        for k in keys:
            ch = o.changes().get(k)
            if ch is None:
                row += ["—", "—"]
                continue
            row += [
                f"{float(ch.mean_change().estimate):+.2f}",
                f"{100 * float(ch.responders.proportion().estimate):.0f}%",
            ]
        table.add_row(*row)
    console.print(
        "outcomes at the visit ending the blinded phase: PGIC much/very much improved, mean "
        "change from the baseline visit and share improved by at least the MCID (95 % CIs in "
        "summary.json and the report)",
        highlight=False,
    )
    console.print(table)


def _print_phase_endpoints(result: Any) -> None:
    """Change of NRS and ≥ 30 % responders by randomised arm after the blinded phase."""
    from openvns.trials.phase_endpoints import phase_endpoints

    later = phase_endpoints(result)[1:]
    if not later:
        return
    columns = []
    for e in later:
        short = "12 mo" if e.name == "month_12" else "open label"
        columns += [f"Δ NRS {short}", f"≥30% {short}"]
    table = _arm_table(columns, result.arm_names)
    for arm in result.arm_names:
        row = [arm]
        for e in later:
            a = e.arms[arm]
            row += [
                f"{float(a.change_NRS.estimate):+.2f}",
                _pct(a.responders_30.proportion()),
            ]
        table.add_row(*row)
    labels = "; ".join(e.label for e in later)
    console.print(
        f"later endpoints by randomised arm ({labels}; eligible patients, intervals in "
        "summary.json and the report)",
        highlight=False,
    )
    console.print(table)


def _print_interim(doc: dict[str, Any] | None, arms: Sequence[str]) -> None:
    """The interim analysis's looks and the design's decision."""
    if doc is None:
        return
    label = f"{arms[0]} − {arms[1]}"
    for name in ("interim", "final"):
        look = doc[name]
        if look is None:
            continue
        where = (
            f"interim ({100 * doc['information_fraction']:.0f} % of patients)"
            if name == "interim"
            else "final analysis"
        )
        console.print(
            f"{where}: {label} Δ NRS {look['difference']:+.2f}, z = {look['z']:+.2f} "
            f"(efficacy boundary |z| ≥ {look['boundary']:.3f}), n = {look['patients']}",
            highlight=False,
        )
    console.print(f"group-sequential decision: [bold]{doc['decision']}[/]", highlight=False)


def _print_withdrawal(doc: dict[str, Any] | None, arms: Sequence[str]) -> None:
    """Run-in responders and loss of response by arm, and the difference."""
    if doc is None:
        return
    first, second = arms[:2]
    parts = [
        f"{arm}: {doc['lost_response'][arm]} of {doc['run_in_responders'][arm]} run-in "
        "responders lost the response"
        for arm in (first, second)
    ]
    console.print("randomised withdrawal — " + "; ".join(parts), highlight=False)
    est, lo, hi = doc["difference"]
    if est is not None:
        console.print(
            f"  {second} − {first}: {100 * est:+.1f} points [{100 * lo:+.1f}, {100 * hi:+.1f}], "
            f"p = {doc['p_value']:.3g}",
            highlight=False,
        )
    ttl = doc.get("time_to_loss")
    if ttl is not None:
        med = ["not reached" if m is None else f"{m:g}" for m in
               (ttl["median_weeks"][first], ttl["median_weeks"][second])]  # fmt: skip
        p_text = "—" if ttl["logrank_p"] is None else f"{ttl['logrank_p']:.3g}"
        console.print(
            f"  weeks to loss of response (KM median, {first} vs {second}): {med[0]} vs "
            f"{med[1]}, log-rank p = {p_text}",
            highlight=False,
        )


def _print_adverse_events(result: Any) -> None:
    """Patients with adverse events and discontinuations by arm in the blinded phase."""
    from openvns.trials.adverse_events import adverse_events, phase_days

    days = phase_days(result, "blinded")
    if days.stop <= days.start:
        return
    tables = adverse_events(result, "blinded")
    columns = ["n", "any AE", "severe", "AE → stop", "stopped"]
    table = _arm_table(columns, tables)
    for name, t in tables.items():
        ae_stop = t.leading_to_discontinuation
        table.add_row(
            name,
            str(t.n),
            f"{100 * t.share(t.any_event):.0f}%",
            f"{100 * t.share(t.worst_severity['severe']):.0f}%",
            "—" if ae_stop is None else f"{100 * t.share(ae_stop):.1f}%",
            f"{100 * t.share(t.discontinued_total):.0f}%",
        )
    console.print(
        "adverse events in the blinded phase (eligible patients in the phase): any side-effect "
        "report, a severe one, discontinued for an adverse event, discontinued for any reason "
        "(reasons and each effect in summary.json and the report)",
        highlight=False,
    )
    console.print(table)


@app.command("run")
@guarded
def run(
    config: ConfigOption = None,
    condition: Annotated[
        str | None,
        typer.Option(
            "--condition",
            help="fibromyalgia, neuropathic_pain, crps, episodic_migraine, chronic_migraine, "
            "episodic_cluster, chronic_cluster or functional_abdominal_pain.",
        ),
    ] = None,
    n_per_arm: NPerArmOption = None,
    seed: SeedOption = None,
    executor: ExecutorOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output directory (openvns-trial).")
    ] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip the HTML report.")] = False,
    export: Annotated[
        list[str] | None,
        typer.Option("--export", help="Per-patient-day export: csv and/or parquet (repeat)."),
    ] = None,
    power_replicates: Annotated[
        int,
        typer.Option(
            "--power-replicates",
            min=0,
            max=MAX_POWER_REPLICATES,
            help="Simulated trials for the design's power beside the result, with the model's "
            "large-sample effect (0: skip).",
        ),
    ] = 200,
) -> None:
    """Run a trial (default: fibromyalgia, implanted VNS to tolerance vs sham, 12-week blinded
    phase and open label to 12 months), print its summary and write the report. A headache
    condition adds its prevention and acute endpoints, a crossover its Hills–Armitage analysis;
    examples/trials/*.toml holds non-invasive trials to start from."""
    from openvns.trials.export import export_tidy
    from openvns.trials.report import write_report
    from openvns.trials.runner import arm_recruitment, run_trial

    cfg = configure(
        config,
        condition=condition,
        n_per_arm=n_per_arm,
        seed=seed,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
    )
    cfg = cfg.with_output(
        directory=str(out) if out is not None else None,
        report=False if no_report else None,
        formats=tuple(export) if export else None,
    )
    directory = check_output_directory(Path(cfg.output.directory), "output.directory")
    parameters = cfg.model_parameters()
    total = cfg.run.n_per_arm * sum(cfg.design.ratio)
    _build_tables(cfg.design)
    t0 = time.perf_counter()
    with progress_bar(f"simulating {total} {cfg.run.condition} patients", "patients") as progress:
        result = run_trial(
            cfg.design,
            n_per_arm=cfg.run.n_per_arm,
            root_seed=cfg.run.root_seed,
            parameters=parameters,
            executor=cfg.run.executor,  # type: ignore[arg-type]
            workers=cfg.run.workers,
            scheduler=cfg.run.scheduler,
            chunk_size=cfg.run.chunk_size,
            progress=progress,
        )
    elapsed = time.perf_counter() - t0
    doc = summary_document(result)
    _print_summary(result, doc)
    # parallel and randomised-withdrawal designs (crossover: Hills–Armitage, not simulated)
    parallel = cfg.design.crossover is None
    if power_replicates > 0 and len(cfg.design.arms) > 1 and parallel:
        from openvns.trials.power_evidence import design_evidence

        with progress_bar(
            f"power: {power_replicates} simulated trials and the large-sample effect", "steps"
        ) as power_progress:
            evidence = design_evidence(
                cfg.design,
                n_per_arm=cfg.run.n_per_arm,
                root_seed=cfg.run.root_seed,
                parameters=parameters,
                replicates=power_replicates,
                executor=cfg.run.executor,  # type: ignore[arg-type]
                workers=cfg.run.workers,
                scheduler=cfg.run.scheduler,
                chunk_size=cfg.run.chunk_size,
                progress=power_progress,
            )
        summary = result.summary()
        withdrawn = None
        if cfg.design.withdrawal is not None:
            from openvns.trials.withdrawal import withdrawal_outcome

            withdrawn = withdrawal_outcome(result)
        for line in evidence.lines(summary, withdrawn):
            if line.warning:
                err_console.print(f"[bold yellow]{escape(line.text)}[/]", highlight=False)
            else:
                console.print(line.text, highlight=False)
        doc["evidence"] = evidence.to_dict(summary, withdrawn)
    rate = result.n_patients * result.n_days / max(elapsed, 1e-9)
    console.print(
        f"{result.n_patients} patients × {result.n_days} days in {elapsed:.2f} s "
        f"({rate:,.0f} patient-days/s)",
        highlight=False,
    )
    directory.mkdir(parents=True, exist_ok=True)
    doc["elapsed_s"] = elapsed
    _atomic_text(directory / "summary.json", json.dumps(doc, indent=2) + "\n")
    _atomic_text(directory / "config.toml", dumps_toml(cfg.to_dict(), _INIT_HEADER))
    written = [directory / "summary.json", directory / "config.toml"]
    for fmt in cfg.output.formats:
        written.append(export_tidy(result, directory / f"patient_days.{fmt}"))
    if cfg.output.report:
        # the report's recruitment figure: each patient on the table of the lead in use
        rec = arm_recruitment(cfg.design)
        written.append(write_report(result, directory / "report.html", recruitment=rec))
    for path in written:
        console.print(f"wrote {path}", highlight=False)


def _build_tables(design: Any) -> None:
    """Build the recruitment tables of the design's leads that are not cached yet, with their
    progress on stderr, before the trial runs (which reads them from the cache): a lead
    without a shipped table (a 3 mm cuff at a new pulse width, a skin electrode) takes minutes
    to build, and in the run it would be silent."""
    from openvns.cli.nerve import fem_stages, table_progress
    from openvns.nerve.recruitment import build_recruitment_table
    from openvns.simulation.recruitment import table_lead

    for lead in sorted({table_lead(design.lead_for(arm.name)) for arm in design.arms}):
        with table_progress(lead, None, False) as tick:
            # a skin electrode's table has no FEM field: its stages are never called
            build_recruitment_table(lead, progress=tick, fem_stage=fem_stages(lead))


@app.command("init")
@guarded
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the configuration.")] = Path(
        "trial.toml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the default configuration as a documented trial.toml to start from."""
    if path.exists() and not force:
        fail(f"{path} exists; pass --force to overwrite it")
    _atomic_text(path, dumps_toml(TrialConfig().to_dict(), _INIT_HEADER))
    console.print(f"wrote {path}", highlight=False)
