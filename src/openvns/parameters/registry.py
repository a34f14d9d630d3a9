"""The registry of parameter sets: every shipped data file, by name, as a :class:`ParameterSet`.

The shipped sets are read from their package resources (``importlib.resources``) and parsed
here, so this module imports no layer of OpenVNS: it sits at the bottom of the stack.

Examples
--------
>>> from openvns.parameters import available, load_set
>>> "physiology" in available() and "conditions/fibromyalgia" in available()
True
>>> load_set("safety")["shannon_k_block"].value
1.85
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from openvns import yamlio
from openvns.errors import ValidationError
from openvns.parameters.flatten import flatten, flatten_sections
from openvns.parameters.model import ParameterSet
from openvns.parameters.provenance import STATUSES

__all__ = [
    "available",
    "describe",
    "load_file",
    "load_set",
    "parse_set",
    "read_resource",
    "register",
]

#: Statuses of the physiology and conditions files (they have no NF values).
_NO_NF = ("V", "D", "R", "A")


@dataclass(frozen=True)
class _Entry:
    loader: Callable[[], ParameterSet]
    description: str


_REGISTRY: dict[str, _Entry] = {}
_CACHE: dict[str, ParameterSet] = {}
_builtins_done = False


# ------------------------------------------------------------------------------------ parsing
def _mapping(text: str, where: str) -> dict[str, Any]:
    raw = yamlio.safe_load(text)
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a YAML mapping")
    return raw


def parse_set(
    text: str | Mapping[str, Any],
    name: str,
    *,
    description: str = "",
    sections: bool = False,
    block: str | None = None,
    statuses: Iterable[str] = STATUSES,
) -> ParameterSet:
    """Parse a sourced data file (YAML text or an already parsed mapping) into a set.

    Parameters
    ----------
    text
        YAML text or its parsed mapping, with ``schema``, ``version`` and sourced values.
    name
        Name of the set (used in error messages).
    description
        One line on what the set parameterises.
    sections
        Whether the top-level blocks are sections of one flat namespace (physiology) rather
        than parts of dotted names.
    block
        Dotted path of one block to read (``"conditions.fibromyalgia"``); its parameters are
        named within the block and get its last key as their section.
    statuses
        Status letters allowed in the file.

    Raises
    ------
    ValueError
        A value that breaks the provenance rule, a number without a source, a missing block.
    """
    raw = _mapping(text, name) if isinstance(text, str) else dict(text)
    allowed = tuple(statuses)
    if block is not None:
        node: Any = raw
        for key in block.split("."):
            if not isinstance(node, Mapping) or key not in node:
                raise ValueError(f"{name}: no block {block!r} in the file")
            node = node[key]
        if not isinstance(node, Mapping):
            raise ValueError(f"{name}: block {block!r} must be a mapping")
        params = flatten(node, name, section=block.rsplit(".", 1)[-1], statuses=allowed)
    elif sections:
        params = flatten_sections(raw, name, statuses=allowed)
    else:
        params = flatten(raw, name, statuses=allowed)
    return ParameterSet(
        name=name,
        version=str(raw.get("version", "unknown")),
        schema_id=str(raw.get("schema", "unknown")),
        description=description,
        parameters=tuple(params),
    )


def load_file(path: str | Path, name: str | None = None, **options: Any) -> ParameterSet:
    """Parse a data file on disk (options as :func:`parse_set`); the set is named by the file."""
    p = Path(path)
    return parse_set(p.read_text("utf-8"), name or p.stem, **options)


def read_resource(package: str, resource: str) -> str:
    """The text of a data file shipped in ``package`` (``"openvns.device"``, ``"data/x.yaml"``).

    A sub-package of ``openvns`` is reached from the top-level package, so that reading its data
    does not import the layer (the registry sits below every layer).
    """
    top, _, sub = package.partition(".")
    root = resources.files(top)
    for part in sub.split(".") if sub else ():
        root = root.joinpath(part)
    return root.joinpath(resource).read_text("utf-8")


# ----------------------------------------------------------------------------------- registry
def register(
    name: str, loader: Callable[[], ParameterSet], description: str, *, replace: bool = False
) -> None:
    """Register a parameter set under ``name``.

    Parameters
    ----------
    name
        Registry name (``"physiology"``; a ``/`` groups sets, ``"conditions/crps"``).
    loader
        Called (once; the result is cached) to read the set.
    description
        One line on what the set parameterises.
    replace
        Allow replacing a set of the same name (otherwise a :class:`ValueError`).
    """
    _builtins()
    if name in _REGISTRY and not replace:
        raise ValueError(f"a parameter set named {name!r} is already registered")
    _REGISTRY[name] = _Entry(loader, description)
    _CACHE.pop(name, None)


def available() -> tuple[str, ...]:
    """Names of every registered parameter set, in registration order."""
    _builtins()
    return tuple(_REGISTRY)


def describe() -> dict[str, str]:
    """``{name: description}`` of every registered set."""
    _builtins()
    return {name: entry.description for name, entry in _REGISTRY.items()}


def load_set(name: str) -> ParameterSet:
    """The parameter set registered as ``name`` (read once, then cached).

    Raises
    ------
    openvns.errors.ValidationError
        No set of that name; the message lists the available names.
    """
    _builtins()
    if name not in _REGISTRY:
        raise ValidationError("parameter set", name, "one of " + ", ".join(_REGISTRY))
    if name not in _CACHE:
        _CACHE[name] = _REGISTRY[name].loader()
    return _CACHE[name]


# ------------------------------------------------------------------------------ shipped sets
def _file_loader(
    name: str, package: str, resource: str, description: str, **options: Any
) -> Callable[[], ParameterSet]:
    def load() -> ParameterSet:
        text = read_resource(package, resource)
        return parse_set(text, name, description=description, **options)

    return load


def _fibres_loader(description: str) -> ParameterSet:
    parts = [load_set(f"fibres/{model}") for model in _FIBRE_FILES]
    params = tuple(
        p.model_copy(update={"name": f"{model}.{p.name}", "section": model})
        for model, part in zip(_FIBRE_FILES, parts, strict=True)
        for p in part.parameters
    )
    versions = sorted({part.version for part in parts})
    return ParameterSet(
        name="fibres",
        version="+".join(versions),
        schema_id=", ".join(part.schema_id for part in parts),
        description=description,
        parameters=params,
    )


_DEVICE = "openvns.device"
_NERVE = "openvns.nerve"
_FIBRE_FILES = ("mrg", "sundt", "solver")
_FIBRES_TEXT = "Fibre models and their solver (" + ", ".join(_FIBRE_FILES) + ")"
_OUTCOMES_TEXT = "Outcomes beyond pain (PGIC, BPI interference, FIQR, sleep) and their MCIDs"
_SHIPPED: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    ("catalogue", _DEVICE, "data/catalogue.yaml", "Generators, leads, programmable ranges", {}),
    ("safety", _DEVICE, "data/safety.yaml", "Default limits of the device safety check", {}),
    ("waveforms", _DEVICE, "data/waveforms.yaml", "Pulse-shape defaults per device kind", {}),
    ("implant", _DEVICE, "data/implant.yaml", "Constants of the virtual implant", {}),
    ("anatomy", _NERVE, "data/anatomy.yaml", "Anatomical rules of nerve geometry", {}),
    ("cuff", _NERVE, "data/cuff.yaml", "Helical cuff and tissue conductivities", {}),
    ("fem", _NERVE, "data/fem.yaml", "Finite-element cuff model: tissues, domain, mesh", {}),
    (
        "population",
        _NERVE,
        "data/human_cervical_vagus.yaml",
        "Human left cervical vagus: fascicles, fibre groups",
        {},
    ),
    ("recruitment", _NERVE, "data/recruitment.yaml", "Recruitment table defaults", {}),
    (
        "transcutaneous",
        _NERVE,
        "data/transcutaneous.yaml",
        "Non-invasive devices: tissue layers, skin electrodes, fibres, perception",
        {},
    ),
    *(
        (
            f"fibres/{model}",
            "openvns.nerve.fibres",
            f"data/{model}.yaml",
            f"Fibre model parameters: {model}",
            {},
        )
        for model in _FIBRE_FILES
    ),
    (
        "physiology",
        "openvns.physiology",
        "data/vns_pain_model.yaml",
        "VNS -> pain model (drive, brainstem, plasticity, heart rate, dropout)",
        {"sections": True, "statuses": _NO_NF},
    ),
    (
        "side_effects",
        "openvns.physiology",
        "data/side_effects.yaml",
        "Side-effect channels: drivers, onset, episodes, habituation, tolerance",
        {"statuses": _NO_NF},
    ),
    ("outcomes", "openvns.patients", "data/outcomes.yaml", _OUTCOMES_TEXT, {"sections": True}),
    (
        "dosing",
        "openvns.protocol",
        "data/dosing.yaml",
        "Non-invasive dosing: exhalation gating, sham ramp, continuous trains",
        {},
    ),
    (
        "headache_endpoints",
        "openvns.analysis",
        "data/headache_endpoints.yaml",
        "Headache-trial endpoint definitions (months, responders, acute response)",
        {"sections": True},
    ),
)
_CONDITIONS = ("openvns.patients", "data/conditions.yaml")
#: Data files with one block per condition under ``conditions:``, registered as
#: ``<prefix>/<condition>``: (prefix, package, resource, description of a block).
_PER_CONDITION = (
    ("headache", "openvns.patients", "data/headache.yaml", "Headache attack model: {}"),
    ("worst_pain", "openvns.patients", "data/worst_pain.yaml", "Worst pain above usual pain: {}"),
)


def _builtins() -> None:
    """Register the shipped sets on first use (conditions are listed from their file)."""
    global _builtins_done
    if _builtins_done:
        return
    _builtins_done = True
    for name, package, resource, description, options in _SHIPPED:
        if name == f"fibres/{_FIBRE_FILES[0]}":
            _REGISTRY["fibres"] = _Entry(lambda: _fibres_loader(_FIBRES_TEXT), _FIBRES_TEXT)
        _REGISTRY[name] = _Entry(
            _file_loader(name, package, resource, description, **options), description
        )
    raw = _mapping(read_resource(*_CONDITIONS), _CONDITIONS[1])
    for condition in (*raw.get("conditions", {}), "diary"):
        block = "diary" if condition == "diary" else f"conditions.{condition}"
        text = (
            "How patients report pain (missing entries, flares, device placebo)"
            if condition == "diary"
            else f"Condition parameters: {condition}"
        )
        _REGISTRY[f"conditions/{condition}"] = _Entry(
            _file_loader(
                f"conditions/{condition}",
                *_CONDITIONS,
                text,
                block=block,
                statuses=_NO_NF,
            ),
            text,
        )
    for prefix, package, resource, template in _PER_CONDITION:
        blocks = _mapping(read_resource(package, resource), resource).get("conditions", {})
        for condition in blocks:
            name, text = f"{prefix}/{condition}", template.format(condition)
            _REGISTRY[name] = _Entry(
                _file_loader(
                    name,
                    package,
                    resource,
                    text,
                    block=f"conditions.{condition}",
                    statuses=_NO_NF,
                ),
                text,
            )
