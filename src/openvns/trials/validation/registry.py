"""The validation registry: cohorts and targets as data (``data/targets.yaml``), checked on load.

A target names a published value with its interval (and how the interval is derived), the metric
that measures it in a simulated cohort, and whether the value was used for calibration. A
registry refuses a target without a source or value, an unknown cohort or metric, a duplicate
key, and a split that holds fewer than a third of the targets out of calibration.

The shipped registry is one registry in two files: ``data/targets.yaml`` (implanted VNS, the
placebo and the diary) and ``data/noninvasive_targets.yaml`` (the non-invasive devices of issue
11); :func:`load_registry` merges them (a cohort or target key used in both is refused).
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from openvns import yamlio
from openvns.analysis.statistics import newcombe_difference, wilson_ci
from openvns.base import FrozenModel
from openvns.errors import ValidationError
from openvns.trials.validation.stats import clopper_pearson

IntervalKind = Literal[
    "published", "wilson", "clopper_pearson", "newcombe", "band", "at_least", "at_most",
    "plus_minus",
]  # fmt: skip

#: Least share of targets held out of calibration (issue 10 item 5).
MIN_HELD_OUT = 1.0 / 3.0
DATA_FILE = "targets.yaml"
#: The files of the shipped registry, merged in this order.
DATA_FILES: tuple[str, ...] = (DATA_FILE, "noninvasive_targets.yaml")


class IntervalSpec(FrozenModel):
    """How the acceptance interval of a reference value is derived."""

    kind: IntervalKind
    low: float | None = None
    high: float | None = None
    n: int | None = None
    k: int | None = None
    k1: int | None = None
    n1: int | None = None
    k2: int | None = None
    n2: int | None = None
    half_width: float | None = None

    @model_validator(mode="after")
    def _complete(self) -> IntervalSpec:
        need = {
            "published": ("low", "high"),
            "band": ("low", "high"),
            "wilson": ("n",),
            "clopper_pearson": ("k", "n"),
            "newcombe": ("k1", "n1", "k2", "n2"),
            "at_least": ("low",),
            "at_most": ("high",),
            "plus_minus": ("half_width",),
        }[self.kind]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValidationError(f"interval.{missing[0]}", None, f"a value for kind {self.kind}")
        return self

    def bounds(self, value: float) -> tuple[float, float]:
        """``(low, high)`` in the reference's unit (open sides are ±inf)."""
        k = self.kind
        if k in ("published", "band"):
            return float(self.low or 0.0), float(self.high or 0.0)
        if k == "at_least":
            return float(self.low or 0.0), math.inf
        if k == "at_most":
            return -math.inf, float(self.high or 0.0)
        if k == "plus_minus":
            h = float(self.half_width or 0.0)
            return value - h, value + h
        if k == "wilson":
            n = int(self.n or 0)
            ci = wilson_ci(round(value / 100.0 * n), n)
            return 100.0 * float(ci.lower), 100.0 * float(ci.upper)
        if k == "clopper_pearson":
            lo, hi = clopper_pearson(int(self.k or 0), int(self.n or 0))
            return 100.0 * lo, 100.0 * hi
        d = newcombe_difference(int(self.k1 or 0), int(self.n1 or 0), int(self.k2 or 0),
                                int(self.n2 or 0))  # fmt: skip
        return 100.0 * float(d.lower), 100.0 * float(d.upper)


class Reference(FrozenModel):
    """The published value, its unit, its acceptance interval and where the interval comes from."""

    value: float
    unit: str
    interval: IntervalSpec
    note: str = Field(min_length=1)
    text: str | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        return self.interval.bounds(self.value)


class ArmSpec(FrozenModel):
    """One arm of a validation cohort (a :class:`~openvns.trials.design.Arm` in text form).

    ``generator`` and ``lead`` (catalogue ids) default to the cohort's; ``implanted`` to true
    except for a ``standard_of_care`` arm (no device, no operation).
    """

    name: str
    kind: Literal["active", "sham", "low_dose", "standard_of_care"]
    protocol: str
    expectation: float | None = None
    implanted: bool | None = None
    generator: str | None = None
    lead: str | None = None


class CohortSpec(FrozenModel):
    """A virtual trial or cohort: arms, phases, parameter overrides and the size it runs at."""

    name: str
    about: str
    arms: tuple[ArmSpec, ...]
    baseline_days: int = 28
    blinded_days: int
    open_label_days: int = 0
    open_label_arm: str | None = None
    parameters: dict[str, float] = Field(default_factory=dict)
    condition: str = "fibromyalgia"
    size: str
    generator: str = "1000"
    lead: str | None = None
    inclusion: dict[str, float] = Field(default_factory=dict)

    @property
    def treatment_days(self) -> int:
        return self.blinded_days + self.open_label_days


class Target(FrozenModel):
    """One published fact: reference, metric and its arguments, cohort, calibration or held out.

    ``unreached`` (calibration targets only) says why no declared calibration parameter of the
    model can reach the target (e.g. the model has no parameter for it, or its structure points
    the other way): the target is reported as failing with that reason, and ``openvns
    validate`` does not exit 1 for it. A calibration target without it must pass.
    """

    key: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str = Field(min_length=1)
    source: str = Field(min_length=1)
    reference: Reference
    metric: str
    args: dict[str, Any] = Field(default_factory=dict)
    cohort: str | None
    calibration: bool
    why: str = Field(min_length=1)
    unreached: str | None = None

    @model_validator(mode="after")
    def _unreached_is_calibration(self) -> Target:
        if self.unreached is not None and (not self.calibration or not self.unreached.strip()):
            raise ValidationError(
                f"{self.key}.unreached", self.unreached,
                "a reason, on a calibration target only (held-out failures need none)",
            )  # fmt: skip
        return self


class Registry(FrozenModel):
    """Every cohort and target of a registry file, cross-checked."""

    version: int
    cohorts: dict[str, CohortSpec]
    targets: tuple[Target, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Registry:
        from openvns.trials.validation.metrics import METRICS

        seen: set[str] = set()
        for i, t in enumerate(self.targets):
            where = f"targets[{i}] ({t.key})"
            if t.key in seen:
                raise ValidationError(f"{where}.key", t.key, "a key used once")
            seen.add(t.key)
            if t.metric not in METRICS:
                raise ValidationError(f"{where}.metric", t.metric, ", ".join(sorted(METRICS)))
            if t.cohort is not None and t.cohort not in self.cohorts:
                raise ValidationError(f"{where}.cohort", t.cohort, ", ".join(self.cohorts))
        if self.targets and self.held_out_share < MIN_HELD_OUT:
            raise ValidationError(
                "targets", f"{self.held_out_share:.0%} held out", "at least a third held out"
            )
        return self

    @property
    def held_out_share(self) -> float:
        return sum(not t.calibration for t in self.targets) / max(len(self.targets), 1)

    def select(self, keys: list[str] | None) -> tuple[Target, ...]:
        """The targets named in ``keys`` (all when ``None``); unknown keys are refused."""
        if not keys:
            return self.targets
        known = {t.key for t in self.targets}
        for k in keys:
            if k not in known:
                raise ValidationError("only", k, "a target key: " + ", ".join(sorted(known)))
        return tuple(t for t in self.targets if t.key in keys)


def parse_registry(data: dict[str, Any]) -> Registry:
    """A :class:`Registry` from the parsed YAML (top-level keys starting ``_`` are anchors)."""
    cohorts = {
        name: CohortSpec(name=name, **spec) for name, spec in (data.get("cohorts") or {}).items()
    }
    return Registry(
        version=int(data.get("version", 1)),
        cohorts=cohorts,
        targets=tuple(Target(**t) for t in data.get("targets") or ()),
    )


def merge_registry_data(parts: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One registry document from several ``(name, parsed YAML)`` parts: cohorts and targets
    concatenated in order; a cohort name or target key in two parts is refused."""
    cohorts: dict[str, Any] = {}
    targets: list[Any] = []
    keys: dict[str, str] = {}
    version = 1
    for name, data in parts:
        version = max(version, int(data.get("version", 1)))
        for cohort, spec in (data.get("cohorts") or {}).items():
            if cohort in cohorts:
                raise ValidationError(f"{name}: cohorts.{cohort}", cohort, "a name used once")
            cohorts[cohort] = spec
        for t in data.get("targets") or ():
            key = str(t.get("key")) if isinstance(t, dict) else ""
            if key in keys:
                raise ValidationError(f"{name}: targets ({key})", keys[key], "a key used once")
            keys[key] = name
            targets.append(t)
    return {"version": version, "cohorts": cohorts, "targets": targets}


def load_registry(path: str | Path | None = None) -> Registry:
    """The shipped registry (every file of :data:`DATA_FILES`), or the file at ``path``."""
    if path is None:
        root = resources.files("openvns.trials.validation")
        parts = [
            (name, yamlio.safe_load(root.joinpath(f"data/{name}").read_text("utf-8")))
            for name in DATA_FILES
        ]
        return parse_registry(merge_registry_data(parts))
    return parse_registry(yamlio.safe_load(Path(path).read_text("utf-8")))
