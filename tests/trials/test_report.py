"""HTML report and figures: self-contained, atomic, numbers equal to the trial summary."""

from __future__ import annotations

import base64
import math
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from openvns.errors import ValidationError
from openvns.physiology.drive import GROUPS
from openvns.protocol import Protocol
from openvns.trials import Arm
from openvns.trials.figures import (
    FIGURE_NAMES,
    build_figures,
    recruitment_at_final_settings,
    waterfall_figure,
)
from openvns.trials.report import write_report
from openvns.trials.runner import TrialResult, run_trial
from tests.trials.test_runner import ACTIVE, analytic_recruitment, small_design

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "source", "wbr"}
RESOURCE_ATTRIBUTES = {"src", "href", "srcset", "action", "data", "poster", "background"}


class _Page(HTMLParser):
    """Collects what the tests look at and checks that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.images: list[str] = []
        self.resources: list[str] = []
        self.rows: list[dict[str, str | None]] = []
        self.cells: list[tuple[int, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self.by_id: dict[str, str] = {}
        self._id_stack: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        for key, value in attrs:
            if key in RESOURCE_ATTRIBUTES and value is not None:
                self.resources.append(value)
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag == "tr":
            self.rows.append(a)
        if tag == "td":
            self.cells.append((len(self.rows) - 1, a))
        if tag not in VOID:
            self.stack.append(tag)
            self._id_stack.append(a.get("id"))
            if a.get("id"):
                self.by_id[str(a["id"])] = ""

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()
        self._id_stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for ident in self._id_stack:
            if ident:
                self.by_id[ident] += data


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture(scope="module")
def result() -> TrialResult:
    return run_trial(small_design(), n_per_arm=4, root_seed=5, recruitment=analytic_recruitment)


@pytest.fixture(scope="module")
def report(result: TrialResult, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, _Page]:
    path = tmp_path_factory.mktemp("report") / "trial.html"
    out = write_report(result, path, recruitment=analytic_recruitment)
    assert out == path
    return path, _parse(path.read_text(encoding="utf-8"))


def test_valid_self_contained_html(report: tuple[Path, _Page]) -> None:
    path, page = report
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert page.errors == []
    assert page.stack == []
    assert page.tags[:3] == ["html", "head", "meta"]
    assert "script" not in page.tags
    assert "link" not in page.tags
    for ref in page.resources:
        assert ref.startswith("data:"), ref
    assert "url(" not in text
    assert "@import" not in text


def test_one_embedded_png_per_figure(report: tuple[Path, _Page]) -> None:
    _, page = report
    assert len(page.images) == len(FIGURE_NAMES)
    for src in page.images:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        assert base64.b64decode(src[len(prefix) :]).startswith(b"\x89PNG\r\n\x1a\n")
    for name in FIGURE_NAMES:
        assert f"figure-{name}" in page.by_id


def test_provenance_and_arm_names(result: TrialResult, report: tuple[Path, _Page]) -> None:
    _, page = report
    assert page.by_id["config-hash"] == result.config_hash
    assert page.by_id["root-seed"] == str(result.root_seed)
    assert page.by_id["version"] == result.version
    assert page.by_id["rng-scheme"] == result.rng_scheme
    assert '"n_per_arm": 4' in page.by_id["config"]
    # one row per arm in the summary table and in the outcomes table
    arm_rows = [r.get("data-arm") for r in page.rows if r.get("data-arm")]
    assert arm_rows == list(result.arm_names) * 2
    assert "active − sham" in "".join(page.text)


def _value(attrs: dict[str, str | None], key: str) -> float:
    raw = attrs[key]
    assert raw is not None
    return float(raw)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_summary_numbers_equal_the_trial_summary(
    result: TrialResult, report: tuple[Path, _Page]
) -> None:
    _, page = report
    summary = result.summary()
    checked = 0
    outcome_cells = 0
    for row_index, attrs in page.cells:
        row = page.rows[row_index]
        field = attrs.get("data-field")
        if row.get("data-arm") and field:
            s = summary.arms[str(row["data-arm"])]
            if field == "change_NRS":
                for key in ("estimate", "lower", "upper"):
                    assert _same(_value(attrs, f"data-{key}"), float(getattr(s.change_NRS, key)))
                assert _value(attrs, "data-n") == int(s.change_NRS.n)
                checked += 1
            elif field in ("responders_30", "responders_50"):
                r = getattr(s, field)
                ci = r.proportion()
                assert _value(attrs, "data-count") == r.count
                assert _value(attrs, "data-n") == r.n
                for key in ("estimate", "lower", "upper"):
                    assert _same(_value(attrs, f"data-{key}"), float(getattr(ci, key)))
                checked += 1
            elif field == "eligible":
                assert _value(attrs, "data-n") == s.n
            elif field.endswith(("_much_improved", "_responders")):  # outcomes beyond pain
                o = summary.outcomes[str(row["data-arm"])]
                share = (
                    o.pgic_improved
                    if field == "pgic_much_improved"
                    else o.changes()[field.removesuffix("_responders")].responders
                )
                ci = share.proportion()
                assert _value(attrs, "data-count") == share.count
                assert _value(attrs, "data-n") == share.n
                for key in ("estimate", "lower", "upper"):
                    assert _same(_value(attrs, f"data-{key}"), float(getattr(ci, key)))
                outcome_cells += 1
            elif field.endswith("_change"):
                o = summary.outcomes[str(row["data-arm"])]
                m = o.changes()[field.removesuffix("_change")].mean_change()
                for key in ("estimate", "lower", "upper"):
                    assert _same(_value(attrs, f"data-{key}"), float(getattr(m, key)))
                assert _value(attrs, "data-n") == int(m.n)
                outcome_cells += 1
        if row.get("data-comparison") and "data-estimate" in attrs:
            arm = str(row["data-comparison"]).split(" − ")[1]
            cmp = _comparison(summary, arm, str(row["data-field"]))
            for key in ("estimate", "lower", "upper"):
                assert _same(_value(attrs, f"data-{key}"), getattr(cmp, key))
            checked += 1
        if row.get("data-comparison") and "data-p-value" in attrs:
            arm = str(row["data-comparison"]).split(" − ")[1]
            cmp = _comparison(summary, arm, str(row["data-field"]))
            assert _same(_value(attrs, "data-p-value"), cmp.p_value)
            checked += 1
        if row.get("data-field") == "time_to_response" and "data-median-a" in attrs:
            ref, arm = str(row["data-comparison"]).split(" − ")
            assert _same(
                _value(attrs, "data-median-a"), summary.time_to_response[ref].median_weeks()
            )
            assert _same(
                _value(attrs, "data-median-b"), summary.time_to_response[arm].median_weeks()
            )
            checked += 1
    # per arm: change, ≥30 %, ≥50 %; per comparison: 3 differences with their p-values, Hedges'
    # g, the log-rank row (its medians and its p-value), and the outcomes' 1 + 2 · 3 differences
    # (PGIC; BPI, FIQR, sleep: change and responders) with their p-values
    per_comparison = 2 * 3 + 1 + 2 + 2 * 7
    assert checked == 3 * len(result.arm_names) + per_comparison * len(summary.comparisons)
    # per arm: PGIC in the summary table and in the outcomes table, then change and responders
    # of BPI, FIQR (fibromyalgia) and sleep
    assert outcome_cells == (2 + 2 * 3) * len(result.arm_names)
    assert "14.1 % of the baseline" in "".join(page.text)  # the FIQR MCID with its source
    assert "Bennett" in "".join(page.text)


def test_comparisons_show_hedges_g_and_nnt(result: TrialResult, report: tuple[Path, _Page]) -> None:
    _, page = report
    summary = result.summary()
    seen: dict[str, int] = {}
    for row_index, attrs in page.cells:
        row = page.rows[row_index]
        field = str(row.get("data-field"))
        if not row.get("data-comparison") or field not in ("hedges_g", "nnt_30", "nnt_50"):
            continue
        arm = str(row["data-comparison"]).split(" − ")[1]
        cmp = summary.comparisons[arm]
        if field == "hedges_g" and "data-estimate" in attrs:
            for key in ("estimate", "lower", "upper"):
                assert _same(_value(attrs, f"data-{key}"), getattr(cmp.hedges_g, key))
            seen[field] = seen.get(field, 0) + 1
        elif "data-nnt" in attrs:
            nnt = getattr(cmp, field)
            assert _same(_value(attrs, "data-nnt"), nnt.estimate)
            assert _same(_value(attrs, "data-at-upper"), nnt.at_upper)
            assert _same(_value(attrs, "data-at-lower"), nnt.at_lower)
            seen[field] = seen.get(field, 0) + 1
    assert seen == dict.fromkeys(("hedges_g", "nnt_30", "nnt_50"), len(summary.comparisons))
    text = "".join(page.text)
    assert "Hedges' g" in text
    cmp = summary.comparisons["sham"]
    assert cmp.nnt_30.describe() in text
    assert cmp.nnt_50.describe() in text


def _comparison(summary: Any, arm: str, field: str) -> Any:
    """The comparison behind a row of the comparisons table."""
    if hasattr(summary.comparisons[arm], field):
        return getattr(summary.comparisons[arm], field)
    oc = summary.outcome_comparisons[arm]
    if field == "pgic_much_improved":
        return oc.pgic_improved
    key, _, kind = field.rpartition("_")
    return (oc.change if kind == "change" else oc.responders)[key]


def test_without_recruitment_the_figure_is_a_note(result: TrialResult, tmp_path: Path) -> None:
    path = write_report(result, tmp_path / "r.html", title="My <trial>")
    page = _parse(path.read_text(encoding="utf-8"))
    assert len(page.images) == len(FIGURE_NAMES) - 1
    assert "figure-recruitment" not in page.by_id
    assert "figure-recruitment-skipped" in page.by_id
    assert "My <trial>" in "".join(page.text)
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_write_is_atomic(
    result: TrialResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.html"
    path.write_text("previous")

    def failing_replace(src: str, dst: str) -> None:
        assert Path(src).parent == tmp_path
        assert Path(src).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        raise OSError("disk full")

    monkeypatch.setattr("openvns.files.os.replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(result, path)
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
    with pytest.raises(ValidationError) as err:
        write_report(result, tmp_path / "missing" / "r.html")
    assert err.value.field == "path"


def test_build_figures(result: TrialResult) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    figures = build_figures(result, analytic_recruitment)
    assert tuple(figures) == FIGURE_NAMES
    for fig in figures.values():
        assert isinstance(fig, Figure)
        assert fig.axes
    assert tuple(build_figures(result)) == FIGURE_NAMES[:-1]
    for _ in range(25):  # more than pyplot's figure.max_open_warning: nothing is registered
        waterfall_figure(result)
    assert plt.get_fignums() == []


@pytest.mark.parametrize("open_label_days", [0, 7])
def test_recruitment_uses_the_protocol_in_force_on_the_last_day(open_label_days: int) -> None:
    sham = "0.0 mA; 20 Hz; 130 us; 30 s on / 5 min off"
    design = small_design(
        arms=(
            Arm(name="active", kind="active", protocol=Protocol.parse(ACTIVE)),
            Arm(name="sham", kind="sham", protocol=Protocol.parse(sham)),
        ),
        open_label_days=open_label_days,
        open_label_arm="active" if open_label_days else None,
    )
    r = run_trial(design, n_per_arm=3, root_seed=2, recruitment=analytic_recruitment)
    seen: list[tuple[int, float]] = []

    def recording(
        current_mA: npt.NDArray[np.float64], pulse_width_us: float
    ) -> npt.NDArray[np.float64]:
        seen.append((len(current_mA), pulse_width_us))
        return analytic_recruitment(current_mA, pulse_width_us)

    fractions, stimulated = recruitment_at_final_settings(r, recording)
    assert fractions.shape == (r.n_patients, len(GROUPS))
    last = np.where(r.dropout_day >= 0, r.dropout_day, r.n_days - 1)
    final = r.current_mA[np.arange(r.n_patients), last]
    in_blinded_sham = (r.arm == 1) & (last < design.baseline_days + design.blinded_days)
    width = np.where(in_blinded_sham, 130.0, 250.0)
    for w in np.unique(width):
        sel = width == w
        expected = analytic_recruitment(final[sel] / r.coupling[sel], float(w))
        np.testing.assert_array_equal(fractions[sel], expected)
    assert sorted(seen, key=lambda s: s[1]) == [
        (int((width == w).sum()), float(w)) for w in np.unique(width)
    ]
    np.testing.assert_array_equal(stimulated, final > 0)
    assert (130.0 in width) == (open_label_days == 0)


def test_importing_trials_does_not_import_plotting_or_arrow() -> None:
    code = (
        "import sys, openvns.trials, openvns.trials.export, openvns.trials.figures, "
        "openvns.trials.report\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'pyarrow'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
