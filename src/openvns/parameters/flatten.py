"""Reading a parsed data file into sourced :class:`~openvns.parameters.Parameter` values.

The rules, the same for every file:

* a mapping with a ``status`` key is a **sourced entry**, checked by
  :func:`~openvns.parameters.check_entry`. With a ``value`` key it is one parameter; without one,
  each of its other keys is a parameter sharing its provenance (``{min, max, step, status, …}``
  gives ``name.min``, ``name.max``, ``name.step``). An optional ``unit`` key overrides the unit
  read from the name; flags and labels beside a ``value`` (``used: false``) are allowed;
* plausible ranges (:mod:`openvns.parameters.ranges`): ``range: {low, high, reason}`` beside one
  ``value``; on a group, ``ranges: {member: {low, high, reason}, …}``, one per numeric member
  (``{mean: 6.0, sd: 1.5, ranges: {mean: {…}, sd: {…}}, status: A, …}``);
* a mapping ``X_status`` that holds only a provenance gives the provenance of its sibling ``X``
  (``settings`` and ``settings_status`` in the device catalogue); its ``ranges`` (optional) are
  those of the members of ``X``, as on a group;
* other mappings are walked, their keys joined with dots; list items that have an ``id`` are named
  by it (``generators.1000.ramp_s``), others by their index (``anchors.0.years``);
* a number outside any sourced entry is an error (every number needs a source); strings, flags
  and empty values outside one are descriptive attributes (labels, ids, model names) and are not
  parameters;
* top-level ``schema``, ``version``, ``sources`` and keys starting with ``_`` (YAML anchor
  tables, whose values are used through their aliases) are not parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from openvns.parameters.model import Parameter, Value
from openvns.parameters.provenance import STATUSES, Provenance, check_entry
from openvns.parameters.ranges import ParameterRange, check_range, parse_range
from openvns.parameters.units import unit_of

__all__ = ["META_KEYS", "flatten", "flatten_sections"]

#: Keys of a sourced entry that are not values: provenance, unit, when the model uses it, and
#: its plausible range (``range`` beside one value, ``ranges`` per member of a group).
META_KEYS = frozenset(
    {"status", "provisional", "source", "unit", "used", "used_when", "range", "ranges"}
)
_TOP_LEVEL = frozenset({"schema", "version", "sources"})


def _join(path: str, *keys: object) -> str:
    for key in keys:
        path = f"{path}.{key}" if path else str(key)
    return path


def _only_provenance(node: object) -> bool:
    return isinstance(node, Mapping) and "status" in node and set(node) <= META_KEYS


def _descriptive(node: object) -> bool:
    """Flags, labels and empty values: attributes of a value, not values that need a source."""
    return node is None or isinstance(node, bool | str)


def _as_value(node: Any, where: str) -> Value:
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if isinstance(node, list | tuple) and all(
        v is None or isinstance(v, bool | int | float | str) for v in node
    ):
        return tuple(node)
    raise ValueError(f"{where}: a sourced value must be a scalar or a list of scalars")


class _Walker:
    def __init__(self, where: str, statuses: tuple[str, ...], section: str) -> None:
        self.where = where
        self.statuses = statuses
        self.section = section
        self.out: list[Parameter] = []
        #: Ranges of values named by a sibling ``X_status`` (by dotted path), used where they walk.
        self.pending: dict[str, ParameterRange] = {}

    def emit(
        self,
        path: str,
        node: Any,
        prov: Provenance,
        unit: object,
        entry: Mapping[str, Any] | None = None,
        plausible: ParameterRange | None = None,
    ) -> None:
        at = f"{self.where}: {path}"
        meta = entry or {}
        used, when = meta.get("used", True), meta.get("used_when") or {}
        if not isinstance(used, bool):
            raise ValueError(f"{at}: used = {used!r} must be true or false")
        if not isinstance(when, Mapping):
            raise ValueError(f"{at}: used_when = {when!r} must map parameter names to values")
        unit_text = str(unit) if unit is not None else unit_of(path)
        plausible = self.pending.pop(path, plausible)
        if "range" in meta:
            plausible = parse_range(meta["range"], at, unit_text)
            value = meta.get("value")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{at}: only a numeric value can have a range, not {value!r}")
            if not plausible.low <= float(value) <= plausible.high:
                raise ValueError(
                    f"{at}: value {value!r} lies outside its range "
                    f"[{plausible.low:g}, {plausible.high:g}]"
                )
        self.out.append(
            Parameter(
                name=path,
                value=_as_value(node, at),
                unit=unit_text,
                status=prov.status,
                provisional=prov.provisional,
                source=prov.source,
                section=self.section or (path.split(".", 1)[0] if "." in path else ""),
                used=used,
                used_when={str(k): _as_value(v, f"{at}.used_when") for k, v in when.items()},
                range=plausible,
            )
        )

    def walk(self, node: Any, path: str, inherited: Provenance | None) -> None:
        if isinstance(node, Mapping):
            self._mapping(node, path, inherited)
        elif isinstance(node, list):
            keyed = all(isinstance(v, Mapping) and "id" in v for v in node) and bool(node)
            if inherited is not None and not any(isinstance(v, Mapping | list) for v in node):
                self.emit(path, node, inherited, None)
                return
            for i, item in enumerate(node):
                self.walk(item, _join(path, item["id"] if keyed else i), inherited)
        elif inherited is not None:
            self.emit(path, node, inherited, None)
        elif not _descriptive(node):
            raise ValueError(
                f"{self.where}: {path} = {node!r} has no status and source "
                "(write it as {value: ..., status: ..., provisional: ..., source: ...})"
            )

    def _mapping(self, node: Mapping[str, Any], path: str, inherited: Provenance | None) -> None:
        at = f"{self.where}: {path or '(top level)'}"
        if "status" in node:
            prov = check_entry(node, at, statuses=self.statuses)
            unit = node.get("unit")
            if "value" in node:
                numbers = [
                    k
                    for k, v in node.items()
                    if k not in META_KEYS and k != "value" and not _descriptive(v)
                ]
                if numbers:
                    raise ValueError(f"{at}: unsourced values {sorted(numbers)} beside value")
                if "ranges" in node:
                    raise ValueError(
                        f"{at}: ranges belong to the members of a group; beside one value "
                        "write range: {low, high, reason}"
                    )
                self.emit(path, node["value"], prov, unit, node)
            else:
                if "range" in node:
                    raise ValueError(
                        f"{at}: a range belongs beside one value, not a group "
                        "(write ranges: {member: {low, high, reason}, ...})"
                    )
                members = {k: v for k, v in node.items() if k not in META_KEYS}
                ranges = self._ranges(node, members, path, at, unit)
                for key, item in members.items():
                    self.emit(_join(path, key), item, prov, unit, plausible=ranges.get(str(key)))
            return
        if "ranges" in node:
            raise ValueError(
                f"{at}: ranges belong to a group entry (one with a status) or to an X_status "
                "beside the values X they range"
            )
        for key, item in node.items():
            key = str(key)
            if not path and (key in _TOP_LEVEL or key.startswith("_")):
                continue
            sibling = node.get(f"{key}_status")
            if key.endswith("_status") and _only_provenance(item):
                if key.removesuffix("_status") in node:
                    continue  # the provenance of a sibling, used there
                raise ValueError(f"{at}.{key}: a provenance without a value")
            own = inherited
            if isinstance(sibling, Mapping) and _only_provenance(sibling):
                own = check_entry(sibling, f"{at}.{key}_status", statuses=self.statuses)
                if "ranges" in sibling:  # the ranges of X's members, given where X walks
                    if not isinstance(item, Mapping):
                        raise ValueError(f"{at}.{key}_status: ranges need a mapping beside them")
                    ranges = self._ranges(sibling, item, _join(path, key), f"{at}.{key}_status")
                    self.pending.update({_join(path, key, m): r for m, r in ranges.items()})
            self.walk(item, _join(path, key), own)

    def _ranges(
        self,
        entry: Mapping[str, Any],
        members: Mapping[Any, Any],
        path: str,
        at: str,
        unit: object = None,
    ) -> dict[str, ParameterRange]:
        """The plausible ranges of a group's members (``ranges: {member: {low, high, reason}}``),
        each checked against its member's value."""
        if "ranges" not in entry:
            return {}
        node = entry["ranges"]
        if not isinstance(node, Mapping) or not node:
            raise ValueError(
                f"{at}: ranges must map member names to {{low, high, reason}}, not {node!r}"
            )
        names = {str(k): v for k, v in members.items()}
        out: dict[str, ParameterRange] = {}
        for member, spec in node.items():
            member = str(member)
            if member not in names:
                raise ValueError(
                    f"{at}: ranges.{member}: no such member (members: {', '.join(sorted(names))})"
                )
            name = _join(path, member)
            where = f"{self.where}: {name}"
            r = parse_range(spec, where, str(unit) if unit is not None else unit_of(name))
            check_range(names[member], r, where)
            out[member] = r
        return out


def flatten(
    node: Mapping[str, Any],
    where: str,
    *,
    prefix: str = "",
    section: str = "",
    statuses: Iterable[str] = STATUSES,
) -> list[Parameter]:
    """Every sourced value of a parsed data file (or of one block of it), in file order.

    Parameters
    ----------
    node
        The parsed YAML mapping.
    where
        Name of the file or block, used in error messages.
    prefix
        Dotted path the names start with (``""`` at the top level of a file).
    section
        Section given to every parameter; by default the first part of each dotted name.
    statuses
        Status letters allowed in this file.

    Raises
    ------
    ValueError
        A sourced entry that breaks the provenance rule (see
        :func:`~openvns.parameters.check_entry`) or a number without a source.
    """
    walker = _Walker(where, tuple(statuses), section)
    walker.walk(node, prefix, None)
    return walker.out


def flatten_sections(
    raw: Mapping[str, Any], where: str, *, statuses: Iterable[str] = STATUSES
) -> list[Parameter]:
    """Sourced values of a file whose top-level blocks are sections of one flat namespace.

    Every top-level key other than ``schema``, ``version`` and ``sources`` is a section; the
    names inside it are not prefixed by the section, and must be unique across sections
    (the physiology parameter file).
    """
    out: list[Parameter] = []
    for section, block in raw.items():
        if section in _TOP_LEVEL or str(section).startswith("_"):
            continue
        if not isinstance(block, Mapping):
            raise ValueError(f"{where}: section {section} must be a mapping")
        out.extend(flatten(block, f"{where}: {section}", section=str(section), statuses=statuses))
    seen: set[str] = set()
    for p in out:
        if p.name in seen:
            raise ValueError(f"{where}: {p.section}.{p.name}: duplicate parameter name")
        seen.add(p.name)
    return out
