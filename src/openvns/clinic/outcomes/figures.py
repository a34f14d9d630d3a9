"""Figures of a patient's outcomes as small self-contained SVG documents.

The printable report used to draw these with matplotlib (about a second and a half per report,
most of it in layout and rasterising); SVG written here takes milliseconds, prints sharp at any
size and needs no font or library. Each function returns the text of one ``<svg>`` document
(no script, no external reference, no ``style`` attribute: presentation attributes only), which
the report embeds as a ``data:image/svg+xml`` image.

The x axis is weeks from the end of the baseline (the baseline lies at x ≤ 0); dashed grey lines
mark settings changes, a solid line the baseline's end, and the weekly pain figure shows the
programmed output current on a right-hand axis on the same time axis.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from openvns.analysis.endpoints import DAYS_PER_WEEK
from openvns.analysis.plotting import arm_colour
from openvns.clinic.diaries.models import SIDE_EFFECT_LABELS, SideEffectKind
from openvns.clinic.outcomes.schemas import PatientOutcomes

__all__ = [
    "FIGURE_NAMES",
    "build_figures",
    "current_steps",
    "pgic_bpi_figure",
    "side_effect_figure",
    "weekly_pain_figure",
]

#: Side-effect kinds in a fixed order (a kind's colour).
KINDS = list(SideEffectKind)
#: Names of the figures of :func:`build_figures`, in report order.
FIGURE_NAMES: tuple[str, ...] = ("weekly_pain", "pgic_bpi", "side_effects")
#: Size of a figure, SVG user units (px at 96 dpi: 7.3 × 3.1 in).
WIDTH, HEIGHT = 700.0, 300.0
_GREY, _DARK, _LIGHT = "#808080", "#333333", "#e6e6e6"


def _x(outcomes: PatientOutcomes, day: date) -> float:
    """Weeks from the end of the baseline (0 = the first day after it)."""
    assert outcomes.baseline is not None
    return ((day - outcomes.baseline.end_date).days - 1) / DAYS_PER_WEEK


def current_steps(outcomes: PatientOutcomes) -> list[tuple[float, float]]:
    """``(week, output_current_mA)`` at every settings change that records the programmed
    current (programming audited on the implant: ``values["settings"]["output_current_mA"]``)."""
    steps = []
    for event in outcomes.settings_history:
        settings = (event.values or {}).get("settings")
        if isinstance(settings, dict) and isinstance(
            settings.get("output_current_mA"), int | float
        ):
            steps.append((_x(outcomes, event.at.date()), float(settings["output_current_mA"])))
    return steps


def _f(v: float) -> str:
    return f"{v:.1f}"


def _nice_step(span: float, target: int = 8) -> float:
    raw = max(span, 1e-9) / target
    power = 10 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


@dataclass
class _Panel:
    """One plotting area: data ranges mapped onto a box of the figure, and its elements."""

    left: float
    top: float
    width: float
    height: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    parts: list[str] = field(default_factory=list)

    def px(self, x: float) -> float:
        lo, hi = self.x_range
        return self.left + (x - lo) / ((hi - lo) or 1.0) * self.width

    def py(self, y: float, y_range: tuple[float, float] | None = None) -> float:
        lo, hi = y_range or self.y_range
        return self.top + self.height - (y - lo) / ((hi - lo) or 1.0) * self.height

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: str, **attrs: str) -> None:
        extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
        self.parts.append(
            f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" '
            f'stroke="{colour}"{extra}/>'
        )

    def text(self, x: float, y: float, words: str, anchor: str = "middle", **attrs: str) -> None:
        attrs = {"font_size": "11", "fill": _DARK, **attrs}
        extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
        self.parts.append(
            f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{extra}>'
            f"{html.escape(words)}</text>"
        )

    def polyline(self, points: Sequence[tuple[float, float]], colour: str, **attrs: str) -> None:
        if not points:
            return
        extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
        coords = " ".join(f"{_f(x)},{_f(y)}" for x, y in points)
        self.parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}"{extra}/>')

    def frame(self, title: str, x_label: str, y_label: str, y_ticks: Sequence[float]) -> None:
        """Axes, grid, ticks and labels."""
        for y in y_ticks:
            self.line(self.left, self.py(y), self.left + self.width, self.py(y), _LIGHT)
            self.text(self.left - 6, self.py(y) + 4, f"{y:g}", anchor="end")
        lo, hi = self.x_range
        step = _nice_step(hi - lo)
        tick = math.ceil(lo / step) * step
        while tick <= hi + 1e-9:
            self.line(self.px(tick), self.bottom, self.px(tick), self.bottom + 4, _DARK)
            self.text(self.px(tick), self.bottom + 16, f"{tick:g}")
            tick += step
        self.parts.append(
            f'<rect x="{_f(self.left)}" y="{_f(self.top)}" width="{_f(self.width)}" '
            f'height="{_f(self.height)}" fill="none" stroke="{_DARK}"/>'
        )
        self.text(self.left + self.width / 2, self.top - 10, title, font_weight="bold")
        self.text(self.left + self.width / 2, self.bottom + 32, x_label)
        cx, cy = self.left - 34, self.top + self.height / 2
        self.text(cx, cy, y_label, transform=f"rotate(-90 {_f(cx)} {_f(cy)})")

    def marks(self, outcomes: PatientOutcomes) -> None:
        """The end of the baseline (solid) and the settings changes (dashed)."""
        lo, hi = self.x_range
        if lo <= 0.0 <= hi:
            self.line(self.px(0.0), self.top, self.px(0.0), self.bottom, _DARK, stroke_width="1.2")
        for event in outcomes.settings_history:
            x = _x(outcomes, event.at.date())
            if lo <= x <= hi:
                self.line(self.px(x), self.top, self.px(x), self.bottom, _GREY,
                          stroke_dasharray="4 3")  # fmt: skip


def _svg(name: str, title: str, panels: Sequence[_Panel], legend: Sequence[tuple[str, str]]) -> str:
    parts = [p for panel in panels for p in panel.parts]
    x = 60.0
    for colour, words in legend:
        parts.append(
            f'<line x1="{_f(x)}" y1="{HEIGHT - 8}" x2="{_f(x + 18)}" y2="{HEIGHT - 8}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        parts.append(
            f'<text x="{_f(x + 22)}" y="{HEIGHT - 4}" font-size="10" fill="{_DARK}">'
            f"{html.escape(words)}</text>"
        )
        x += 30 + 6 * len(words)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" '
        f'width="{WIDTH:g}" height="{HEIGHT:g}" role="img" aria-label="{html.escape(title)}" '
        f'font-family="sans-serif" id="svg-{name}"><title>{html.escape(title)}</title>'
        f'<rect width="100%" height="100%" fill="#ffffff"/>' + "".join(parts) + "</svg>"
    )


def _week_range(outcomes: PatientOutcomes, extra: Sequence[float] = ()) -> tuple[float, float]:
    xs = [_x(outcomes, w.start_date) for w in outcomes.weekly_pain]
    xs += [x + 1.0 for x in xs] + list(extra)
    return (min(xs, default=-1.0), max(xs, default=1.0))


def weekly_pain_figure(outcomes: PatientOutcomes) -> str:
    """Weekly mean pain with 95 % intervals, the baseline mean and the −30 %/−50 % levels, and
    the programmed output current (right axis)."""
    steps = current_steps(outcomes)
    panel = _Panel(60, 30, WIDTH - 130, HEIGHT - 90, _week_range(outcomes), (0.0, 10.0))
    panel.frame("Weekly pain", "weeks from end of baseline", "pain (NRS 0–10)", range(0, 11, 2))
    legend = [(arm_colour(0), "weekly mean (95 % CI)")]
    base = outcomes.baseline.mean_NRS if outcomes.baseline else None
    if base is not None:
        for factor, dash, label in ((1.0, "", "baseline"), (0.7, "2 3", "−30 %"),
                                    (0.5, "8 3 2 3", "−50 %")):  # fmt: skip
            y = panel.py(base * factor)
            attrs = {"stroke_dasharray": dash} if dash else {}
            panel.line(panel.left, y, panel.left + panel.width, y, arm_colour(2), **attrs)
            panel.text(panel.left + panel.width - 4, y - 3, f"{label} ({base * factor:.1f})",
                       anchor="end", font_size="9")  # fmt: skip
        legend.append((arm_colour(2), "baseline, −30 %, −50 %"))
    panel.marks(outcomes)
    points = []
    for w in outcomes.weekly_pain:
        if w.mean_NRS is None:
            continue
        x = panel.px(_x(outcomes, w.start_date) + 0.5)
        if w.lower_NRS is not None and w.upper_NRS is not None:
            low, high = panel.py(max(w.lower_NRS, 0.0)), panel.py(min(w.upper_NRS, 10.0))
            panel.line(x, low, x, high, arm_colour(0))
        points.append((x, panel.py(w.mean_NRS)))
    panel.polyline(points, arm_colour(0), stroke_width="1.5")
    panel.parts += [f'<circle cx="{_f(x)}" cy="{_f(y)}" r="2.5" fill="{arm_colour(0)}"/>'
                    for x, y in points]  # fmt: skip
    if steps:
        top = max(3.5, max(mA for _, mA in steps) * 1.1)
        right = (0.0, top)
        lo, hi = panel.x_range
        xs = [min(max(x, lo), hi) for x, _ in steps] + [hi]
        ys = [mA for _, mA in steps]
        path = []
        for i, mA in enumerate(ys):
            path += [
                (panel.px(xs[i]), panel.py(mA, right)),
                (panel.px(xs[i + 1]), panel.py(mA, right)),
            ]
        panel.polyline(path, arm_colour(1), stroke_width="1.5")
        edge = panel.left + panel.width
        for mA in (0.0, top / 2, top):
            panel.text(edge + 6, panel.py(mA, right) + 4, f"{mA:.1f}", anchor="start")
        cx, cy = edge + 44, panel.top + panel.height / 2
        panel.text(cx, cy, "output current (mA)", transform=f"rotate(90 {_f(cx)} {_f(cy)})",
                   fill=arm_colour(1))  # fmt: skip
        legend.append((arm_colour(1), "output current"))
    return _svg("weekly_pain", "Weekly mean pain", [panel], legend)


def pgic_bpi_figure(outcomes: PatientOutcomes) -> str:
    """PGIC ratings (1 best … 7 worst) and BPI interference (0–10) over time."""
    dates = [p.entry_date for p in outcomes.pgic] + [b.entry_date for b in outcomes.bpi]
    x_range = _week_range(outcomes, [_x(outcomes, d) for d in dates])
    half = (WIDTH - 160) / 2
    pgic = _Panel(60, 30, half, HEIGHT - 90, x_range, (7.5, 0.5))
    pgic.frame("PGIC", "weeks from end of baseline", "PGIC (1 very much improved)", range(1, 8))
    bpi = _Panel(60 + half + 80, 30, half, HEIGHT - 90, x_range, (0.0, 10.0))
    bpi.frame("BPI interference", "weeks from end of baseline", "interference (0–10)",
              range(0, 11, 2))  # fmt: skip
    series: list[tuple[_Panel, list[tuple[date, float]], str]] = [
        (pgic, [(p.entry_date, float(p.score)) for p in outcomes.pgic], arm_colour(3)),
        (bpi, [(b.entry_date, b.interference) for b in outcomes.bpi], arm_colour(5)),
    ]
    for panel, values, colour in series:
        panel.marks(outcomes)
        points = [(panel.px(_x(outcomes, d)), panel.py(v)) for d, v in values]
        panel.polyline(points, colour, stroke_width="1.5")
        panel.parts += [f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3" fill="{colour}"/>'
                        for x, y in points]  # fmt: skip
    return _svg("pgic_bpi", "PGIC and BPI interference", [pgic, bpi],
                [(arm_colour(3), "PGIC"), (arm_colour(5), "BPI interference")])  # fmt: skip


def side_effect_figure(outcomes: PatientOutcomes) -> str:
    """Days per week with each side effect that was reported: one row per kind, a bar per week
    (full height: all seven days)."""
    courses = [c for c in outcomes.side_effects if any(w.days for w in c.weeks)]
    rows = max(len(courses), 1)
    panel = _Panel(170, 30, WIDTH - 200, HEIGHT - 90, _week_range(outcomes), (0.0, float(rows)))
    panel.frame("Side effects (days reported per week)", "weeks from end of baseline", "", [])
    panel.marks(outcomes)
    row_h = panel.height / rows
    bar_w = max(panel.px(1.0) - panel.px(0.0) - 1.0, 0.5)
    label: Callable[[SideEffectKind], str] = SIDE_EFFECT_LABELS.__getitem__
    for k, course in enumerate(courses):
        colour = arm_colour(KINDS.index(course.kind) + 2)  # the same colour for a kind always
        base = panel.top + (k + 1) * row_h
        panel.line(panel.left, base, panel.left + panel.width, base, _LIGHT)
        panel.text(panel.left - 6, base - row_h / 2 + 4, label(course.kind)[:28], anchor="end")
        for w in course.weeks:
            if not w.days:
                continue
            h = (row_h - 2) * w.days / DAYS_PER_WEEK
            panel.parts.append(
                f'<rect x="{_f(panel.px(_x(outcomes, w.start_date)) + 0.5)}" y="{_f(base - h)}" '
                f'width="{_f(bar_w)}" height="{_f(h)}" fill="{colour}">'
                f"<title>{html.escape(label(course.kind))}, week {w.week}: {w.days} of 7 days"
                "</title></rect>"
            )
    if not courses:
        panel.text(panel.left + panel.width / 2, panel.top + panel.height / 2, "none reported")
    return _svg("side_effects", "Side effects per week", [panel], [])


def build_figures(outcomes: PatientOutcomes) -> dict[str, str]:
    """Every figure (SVG text) by name (none without a baseline or weekly pain)."""
    if outcomes.baseline is None or not outcomes.weekly_pain:
        return {}
    return {
        "weekly_pain": weekly_pain_figure(outcomes),
        "pgic_bpi": pgic_bpi_figure(outcomes),
        "side_effects": side_effect_figure(outcomes),
    }
