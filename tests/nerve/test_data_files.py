"""The nerve data files' cache digests: a plausible range annotates a value, it is not an input,
so adding one keeps every shipped table's key; changing a value, status or source does not."""

from __future__ import annotations

from importlib import resources

import yaml
from hypothesis import given
from hypothesis import strategies as st

from openvns.nerve import data_files
from openvns.nerve.recruitment import _fibre_data_digests

ENTRY = 'x: {value: 2.5, status: A, provisional: true, source: "s"}\n'
RANGED = (
    'x: {value: 2.5, status: A, provisional: true, source: "s", '
    'range: {low: 1.0, high: 4.0, reason: "r, with {braces} and \\"quotes\\""}}\n'
)
BLOCK = 'x:\n  value: 2.5\n  status: A\n  provisional: true\n  source: "s"\n'
BLOCK_RANGED = (
    'x:\n  value: 2.5\n  range: {low: 1, high: 4, reason: "judgement"}\n'
    '  status: A\n  provisional: true\n  source: "s"\n'
)


def test_a_range_in_either_style_is_left_out_of_the_digest() -> None:
    assert yaml.safe_load(RANGED)["x"]["range"]["high"] == 4.0  # the range is real YAML
    assert data_files.model_text(RANGED) == ENTRY
    assert data_files.text_digest(RANGED) == data_files.text_digest(ENTRY)
    assert data_files.model_text(BLOCK_RANGED) == BLOCK
    assert data_files.text_digest(BLOCK_RANGED) == data_files.text_digest(BLOCK)


def test_a_changed_value_status_or_source_changes_the_digest() -> None:
    base = data_files.text_digest(RANGED)
    for old, new in (("2.5", "2.6"), ("status: A", "status: R"), ('source: "s"', 'source: "t"')):
        assert data_files.text_digest(RANGED.replace(old, new, 1)) != base, new
    # a range written another way is kept: the key then changes (a rebuild, never a stale table)
    other = ENTRY.replace("}\n", ", range: {high: 4.0, low: 1.0, reason: r}}\n")
    assert data_files.text_digest(other) != data_files.text_digest(ENTRY)


@given(st.floats(-1e6, 1e6, allow_nan=False), st.floats(-1e6, 1e6, allow_nan=False),
       st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))  # fmt: skip
def test_any_range_strips_back_to_the_plain_entry(low: float, high: float, reason: str) -> None:
    quoted = reason.replace("\\", "\\\\").replace('"', '\\"')
    text = ENTRY.replace(
        "}\n", f', range: {{low: {low!r}, high: {high!r}, reason: "{quoted}"}}}}\n'
    )
    assert yaml.safe_load(text)["x"]["range"]["reason"] == reason
    assert data_files.model_text(text) == ENTRY


def test_the_shipped_files_digest_without_their_ranges() -> None:
    # every range in the files that feed the tables' keys is stripped: none is left in the text
    for pkg, name in (("openvns.nerve", "cuff.yaml"), ("openvns.nerve", "anatomy.yaml"),
                      ("openvns.nerve.fibres", "mrg.yaml"), ("openvns.nerve.fibres", "sundt.yaml"),
                      ("openvns.nerve.fibres", "solver.yaml")):  # fmt: skip
        text = resources.files(pkg).joinpath(f"data/{name}").read_text("utf-8")
        stripped = yaml.safe_load(data_files.model_text(text))

        def ranges(node: object) -> int:
            if isinstance(node, dict):
                return ("range" in node) + sum(ranges(v) for v in node.values())
            if isinstance(node, list):
                return sum(ranges(v) for v in node)
            return 0

        assert ranges(stripped) == 0, name
        assert yaml.safe_load(text) is not None
    assert data_files.digest("cuff.yaml") == data_files.text_digest(
        data_files.read_text("cuff.yaml")
    )
    assert set(_fibre_data_digests()) == {"mrg.yaml", "solver.yaml", "sundt.yaml"}
