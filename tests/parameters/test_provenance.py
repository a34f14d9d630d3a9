"""The one provenance type and the one provisional rule, used by every layer's loader."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError

from openvns.parameters import Parameter, Provenance, check_entry, load_file, parse_set

GOOD = """\
schema: test.params/1
version: "0.1"
sources:
  S1: "a source"
alpha_mA: {value: 1.5, status: V, provisional: false, source: "S1"}
beta: {value: 0.5, status: A, provisional: true, source: "assumed"}
block:
  gamma_us: {value: 250, status: D, provisional: false, source: "derived", unit: "ms"}
  range_Hz: {min: 1, max: 30, status: R, provisional: true, source: "recalled"}
"""


def test_a_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    s = load_file(path)
    assert s.name == "good"
    assert (s.schema_id, s.version) == ("test.params/1", "0.1")
    assert s.names() == (
        "alpha_mA",
        "beta",
        "block.gamma_us",
        "block.range_Hz.min",
        "block.range_Hz.max",
    )
    assert s["alpha_mA"].unit == "mA"
    assert s["block.gamma_us"].unit == "ms"  # an explicit `unit:` wins over the name
    assert s["block.range_Hz.max"].unit == "Hz"
    assert s["block.range_Hz.max"].provenance == Provenance(
        status="R", provisional=True, source="recalled"
    )
    assert [p.name for p in s.provisional()] == ["beta", "block.range_Hz.min", "block.range_Hz.max"]


@pytest.mark.parametrize("status", ["R", "NF", "A"])
@pytest.mark.parametrize("flag", ["false", None])
def test_unconfirmed_value_not_flagged_provisional_is_refused(
    tmp_path: Path, status: str, flag: str | None
) -> None:
    provisional = "" if flag is None else f", provisional: {flag}"
    bad = GOOD + f"delta_s: {{value: 2.0, status: {status}{provisional}, source: x}}\n"
    path = tmp_path / "bad.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ValueError, match=rf"bad: delta_s: a value with status {status} must"):
        load_file(path)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{value: 1, status: X, provisional: false, source: s}", "status 'X' not one of"),
        ("{value: 1, status: V, provisional: false}", "needs a source"),
        ("{value: 1, status: V, provisional: false, source: ''}", "needs a source"),
        ("{value: 1, status: V, provisional: maybe, source: s}", "true or false"),
        ("{value: 1, status: V, source: s, extra: 2}", "unsourced values"),
        ("3.5", "has no status and source"),
        ("{min: 1, max: 2}", "has no status and source"),
    ],
)
def test_badly_sourced_values_are_refused(entry: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_set(GOOD + f"epsilon: {entry}\n", "bad")


def test_a_file_may_restrict_its_statuses() -> None:
    text = GOOD.replace("status: R", "status: NF")
    parse_set(text, "ok")
    with pytest.raises(ValueError, match="status 'NF' not one of V, D, R, A"):
        parse_set(text, "bad", statuses=("V", "D", "R", "A"))


def test_labels_and_flags_need_no_source() -> None:
    s = parse_set(GOOD + "label: a label\nenabled: true\nids: [a, b]\n", "ok")
    assert "label" not in s
    assert "enabled" not in s


def test_the_rule_holds_for_the_type_itself() -> None:
    for status in ("R", "NF", "A"):
        with pytest.raises(PydanticValidationError, match="must be flagged provisional"):
            Provenance(status=status, provisional=False, source="x")  # type: ignore[arg-type]
        with pytest.raises(PydanticValidationError, match="must be flagged provisional"):
            Parameter(name="x", value=1.0, status=status, provisional=False, source="x")  # type: ignore[arg-type]
    assert Provenance(status="V", provisional=True, source="x").provisional


def test_check_entry_returns_the_one_provenance_type() -> None:
    prov = check_entry({"value": 1, "status": "D", "provisional": False, "source": "s"}, "here")
    assert type(prov) is Provenance
    with pytest.raises(ValueError, match="here: a value with status A must"):
        check_entry({"value": 1, "status": "A", "provisional": False, "source": "s"}, "here")


def test_duplicate_names_across_sections_are_refused() -> None:
    text = (
        "schema: s/1\nversion: '1'\n"
        "one:\n  x: {value: 1, status: V, source: s}\n"
        "two:\n  x: {value: 2, status: V, source: s}\n"
    )
    with pytest.raises(ValueError, match="duplicate parameter name"):
        parse_set(text, "dup", sections=True)
    assert parse_set(text, "nested").names() == ("one.x", "two.x")
