"""The shared plotting helpers."""

from __future__ import annotations

import subprocess
import sys

from openvns.analysis.plotting import PALETTE, agg_figure, arm_colour, figure_png


def test_arm_colours_cycle_through_the_palette() -> None:
    assert [arm_colour(i) for i in range(len(PALETTE))] == list(PALETTE)
    assert arm_colour(len(PALETTE) + 2) == PALETTE[2]


def test_figure_png_is_a_png_without_a_software_tag() -> None:
    fig = agg_figure(2.0, 1.5)
    fig.add_subplot().plot([0, 1], [1, 0], color=arm_colour(0))
    png = figure_png(fig, dpi=50)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"matplotlib.org" not in png
    assert fig.get_size_inches().tolist() == [2.0, 1.5]


def test_importing_analysis_does_not_import_matplotlib() -> None:
    code = (
        "import sys, openvns.analysis, openvns.analysis.plotting\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib')\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
