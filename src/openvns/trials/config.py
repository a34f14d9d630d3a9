r'''The configuration of a trial run: one TOML file, validated, with errors that name the key.

``openvns trial run --config trial.toml`` reads it; ``openvns trial init trial.toml`` writes the
defaults as a starting point. Every table is optional: what is left out takes its default.

.. code-block:: toml

    [run]
    condition = "fibromyalgia"    # fibromyalgia | neuropathic_pain | crps
    n_per_arm = 200               # patients per unit of allocation ratio
    root_seed = 2026
    executor = "serial"           # serial | process | dask
    workers = 1                   # processes (process) or local Dask workers (dask)
    # scheduler = "tcp://10.0.0.5:8786"   # an existing Dask scheduler (executor = "dask")
    chunk_size = 2048

    [output]
    directory = "openvns-trial"
    report = true                 # report.html
    formats = ["parquet"]         # per-patient-day export: csv and/or parquet

    [trial]                       # the design (TrialDesign.from_dict)
    generator = "1000"
    # lead = "303-30"             # the helical lead, whose recruitment table is used (default:
                                  # the generator's, 304-20 2 mm); an arm may name its own
    baseline_days = 28
    blinded_days = 84
    open_label_days = 281
    open_label_arm = "active"
    [trial.inclusion]
    min_mean_pain = 4.0
    [[trial.arms]]
    name = "active"
    kind = "active"
    protocol = """titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA; \
        20 Hz; 250 us; 30 s on / 5 min off"""
    [[trial.arms]]
    name = "sham"
    kind = "sham"
    protocol = "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"

    [physiology]                  # overrides of the physiology parameter set
    # f_opt_Hz = 10.0
    [condition]                   # overrides of the condition's parameter set
    # p_responder = 0.3
'''

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from openvns.errors import ValidationError
from openvns.patients.conditions import Condition, condition_names, load_condition
from openvns.physiology.parameters import PhysiologyParameters
from openvns.random import DEFAULT_ROOT_SEED
from openvns.simulation.parameters import ModelParameters
from openvns.trials.design import TrialDesign
from openvns.trials.executors import EXECUTORS

__all__ = [
    "EXPORT_FORMATS",
    "MAX_PATIENT_DAYS",
    "OutputConfig",
    "RunConfig",
    "TrialConfig",
    "dumps_toml",
    "load_config",
]

#: Most patient-days one run may simulate (randomised patients × trial days). The result keeps
#: ~40 bytes a patient-day (diary, current, side effects; ``TrialResult``) and the summary, the
#: report and the per-patient-day export work on copies of it, so 2·10⁷ patient-days (~25 000
#: patients per arm of a 1:1 trial of 393 days, a hundred times the largest VNS trial) take
#: a few GiB; 10⁹ patients per arm asked numpy for 75 GiB at once (a MemoryError).
MAX_PATIENT_DAYS = 20_000_000
#: Per-patient-day export formats.
EXPORT_FORMATS: tuple[str, ...] = ("csv", "parquet")
_TABLES = ("run", "output", "trial", "physiology", "condition")


def _keys(table: dict[str, Any], where: str, allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise ValidationError(f"{where}.{key}", table[key], "one of " + ", ".join(allowed))


def _int(value: Any, key: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(key, value, f"a whole number ≥ {low}")
    return value


def _choice(value: Any, key: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(key, value, "one of " + ", ".join(allowed))
    return value


def _str(value: Any, key: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(key, value, what)
    return value


@dataclass(frozen=True)
class RunConfig:
    """Who is simulated and how the work is spread (the ``[run]`` table)."""

    condition: str = "fibromyalgia"
    n_per_arm: int = 200
    root_seed: int = DEFAULT_ROOT_SEED
    executor: str = "serial"
    workers: int = 1
    scheduler: str | None = None
    chunk_size: int = 2048

    KEYS = (
        "condition",
        "n_per_arm",
        "root_seed",
        "executor",
        "workers",
        "scheduler",
        "chunk_size",
    )

    def __post_init__(self) -> None:
        _choice(self.condition, "run.condition", condition_names())
        _int(self.n_per_arm, "run.n_per_arm", 1)
        _int(self.root_seed, "run.root_seed", 0)
        _choice(self.executor, "run.executor", EXECUTORS)
        _int(self.workers, "run.workers", 1)
        _int(self.chunk_size, "run.chunk_size", 1)
        if self.scheduler is not None:
            address = _str(self.scheduler, "run.scheduler", "a Dask scheduler address")
            if self.executor != "dask":
                raise ValidationError(
                    "run.scheduler", address, 'only with executor = "dask" (it is a Dask address)'
                )
            if "://" not in address:
                raise ValidationError(
                    "run.scheduler", address, "a Dask scheduler address such as tcp://host:8786"
                )


@dataclass(frozen=True)
class OutputConfig:
    """Where the report and the exports go (the ``[output]`` table)."""

    directory: str = "openvns-trial"
    report: bool = True
    formats: tuple[str, ...] = ("parquet",)

    KEYS = ("directory", "report", "formats")

    def __post_init__(self) -> None:
        _str(self.directory, "output.directory", "a directory path")
        if not isinstance(self.report, bool):
            raise ValidationError("output.report", self.report, "true or false")
        for i, fmt in enumerate(self.formats):
            _choice(fmt, f"output.formats[{i}]", EXPORT_FORMATS)
        if len(set(self.formats)) != len(self.formats):
            raise ValidationError("output.formats", list(self.formats), "each format once")


@dataclass(frozen=True)
class TrialConfig:
    """Everything a trial run needs; :meth:`from_dict` validates a parsed TOML document."""

    run: RunConfig = field(default_factory=RunConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    design: TrialDesign = field(default_factory=TrialDesign.default)
    physiology: dict[str, Any] = field(default_factory=dict)
    condition_overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        days = self.design.baseline_days + self.design.blinded_days + self.design.open_label_days
        per_unit = sum(self.design.ratio) * days  # patient-days per unit of n_per_arm
        if self.run.n_per_arm * per_unit > MAX_PATIENT_DAYS:
            raise ValidationError(
                "run.n_per_arm",
                self.run.n_per_arm,
                f"at most {MAX_PATIENT_DAYS // per_unit:,} with this design "
                f"({sum(self.design.ratio)} patients per unit of ratio × {days} days; at most "
                f"{MAX_PATIENT_DAYS:,} "
                "patient-days, which the results must hold in memory)",
            )

    # -- what the runner consumes -----------------------------------------------------------
    def parameters(self) -> PhysiologyParameters:
        """The physiology set of the run: the shipped one, with the condition's own
        ``overrides`` and then the ``[physiology]`` table's (validated)."""
        base = ModelParameters.default(self.condition()).physiology
        if not self.physiology:
            return base
        try:
            return base.with_(**self.physiology)
        except ValidationError as exc:
            raise ValidationError(f"physiology.{exc.field}", exc.value, exc.allowed) from None

    def condition(self) -> Condition:
        """The condition's set with the ``[condition]`` overrides (validated)."""
        base = load_condition(self.run.condition)
        if not self.condition_overrides:
            return base
        if "name" in self.condition_overrides:
            raise ValidationError(
                "condition.name", self.condition_overrides["name"], "set run.condition instead"
            )
        try:
            out: Condition = base.with_(**self.condition_overrides)
        except ValidationError as exc:
            key = exc.field.split(".", 1)[-1]
            raise ValidationError(f"condition.{key}", exc.value, exc.allowed) from None
        return out

    def model_parameters(self) -> ModelParameters:
        """Physiology, condition (with their overrides) and diary parameters of the run."""
        default = ModelParameters.default(self.condition())
        return replace(default, physiology=self.parameters())

    def with_run(self, **changes: Any) -> TrialConfig:
        """A copy with ``[run]`` fields changed (CLI options override the file)."""
        given = {k: v for k, v in changes.items() if v is not None}
        return replace(self, run=replace(self.run, **given)) if given else self

    def with_output(self, **changes: Any) -> TrialConfig:
        """A copy with ``[output]`` fields changed."""
        given = {k: v for k, v in changes.items() if v is not None}
        return replace(self, output=replace(self.output, **given)) if given else self

    # -- TOML ------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialConfig:
        """Validate a parsed TOML document; errors name the key (``run.workers``)."""
        if not isinstance(data, dict):
            raise ValidationError("config", type(data).__name__, "a TOML document of tables")
        if "recruitment" in data:
            raise ValidationError(
                "recruitment",
                data["recruitment"],
                "no [recruitment] table: the lead is the device's, set trial.lead (or "
                "trial.arms[i].lead) and its recruitment table is used",
            )
        _keys(data, "config", _TABLES)
        tables: dict[str, dict[str, Any]] = {}
        for name in _TABLES:
            t = data.get(name, {})
            if not isinstance(t, dict):
                raise ValidationError(name, t, f"a [{name}] table")
            tables[name] = t
        _keys(tables["run"], "run", RunConfig.KEYS)
        _keys(tables["output"], "output", OutputConfig.KEYS)
        formats = tables["output"].get("formats", list(OutputConfig.formats))
        if not isinstance(formats, list):
            raise ValidationError(
                "output.formats", formats, "a list of " + ", ".join(EXPORT_FORMATS)
            )
        output = OutputConfig(**{**tables["output"], "formats": tuple(formats)})
        design = TrialDesign.default()
        if tables["trial"]:
            merged = {**design.to_dict(), **tables["trial"]}
            try:
                design = TrialDesign.from_dict(merged)
            except ValidationError as exc:
                raise ValidationError(f"trial.{exc.field}", exc.value, exc.allowed) from None
        for name in ("physiology", "condition"):
            for key, value in tables[name].items():
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValidationError(f"{name}.{key}", value, "a number")
                if not math.isfinite(float(value)):
                    raise ValidationError(f"{name}.{key}", value, "a finite number")
        cfg = cls(
            run=RunConfig(**tables["run"]),
            output=output,
            design=design,
            physiology=dict(tables["physiology"]),
            condition_overrides=dict(tables["condition"]),
        )
        cfg.parameters()  # validate the overrides now, naming the key
        cfg.condition()
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """The TOML-able document (round-trips through :meth:`from_dict`)."""
        run = {k: getattr(self.run, k) for k in RunConfig.KEYS if getattr(self.run, k) is not None}
        return {
            "run": run,
            "output": {
                "directory": self.output.directory,
                "report": self.output.report,
                "formats": list(self.output.formats),
            },
            "trial": self.design.to_dict(),
            "physiology": dict(self.physiology),
            "condition": dict(self.condition_overrides),
        }


def load_config(path: str | Path) -> TrialConfig:
    """Read and validate a ``trial.toml``; errors name the file, the key and what is allowed."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ValidationError("config", str(p), f"a readable TOML file ({exc.strerror})") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValidationError(
            "config", str(p), "a TOML file in UTF-8 (this one is UTF-16: save it as UTF-8)"
        )
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark some editors write is harmless
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "config", str(p), f"a TOML file in UTF-8 (byte {exc.start} is not UTF-8)"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError("config", str(p), f"valid TOML ({exc})") from None
    return TrialConfig.from_dict(data)


# ------------------------------------------------------------------------------ TOML writer
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _toml_table(name: str, table: dict[str, Any], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict) and not _is_aot(v)}
    lines.append(f"[{name}]")
    lines.extend(f"{k} = {_toml_value(v)}" for k, v in scalars.items())
    lines.append("")
    for k, v in table.items():
        if isinstance(v, dict):
            _toml_table(f"{name}.{k}", v, lines)
        elif _is_aot(v):
            for item in v:
                lines.append(f"[[{name}.{k}]]")
                lines.extend(f"{ik} = {_toml_value(iv)}" for ik, iv in item.items())
                lines.append("")


def _is_aot(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def dumps_toml(document: dict[str, Any], header: str = "") -> str:
    """A TOML text of ``document`` (tables of scalars, lists, sub-tables, arrays of tables)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    if lines:
        lines.append("")
    for name, table in document.items():
        _toml_table(name, table, lines)
    return "\n".join(lines).rstrip() + "\n"
