"""Small plotting helpers shared by the trial report and the clinic's outcome figures.

Figures are built on the Agg canvas without :mod:`matplotlib.pyplot`, so nothing is registered
in pyplot's figure manager and the global backend is left alone. matplotlib is imported inside
the functions only.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PALETTE", "agg_figure", "arm_colour", "figure_png"]

#: Colours of arms and series, in order (hex RGB).
PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#7f7f7f",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
)


def arm_colour(index: int) -> str:
    """Colour of arm (or series) ``index`` in every figure (hex RGB), cycling through
    :data:`PALETTE`."""
    return PALETTE[index % len(PALETTE)]


def agg_figure(width_in: float = 7.0, height_in: float = 4.0) -> Figure:
    """A new :class:`~matplotlib.figure.Figure` (constrained layout) on its own Agg canvas,
    outside pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_png(figure: Figure, *, dpi: int = 100) -> bytes:
    """PNG bytes of a matplotlib figure (no metadata that names a web address)."""
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()
