"""Potentials of an extruded mesh at any points: the cross-section's triangle, then the layer.

A point is located in the cross-section by the Delaunay triangulation the mesh was built on
(``find_simplex``) and in height by the levels; its value is the prism's interpolation, linear
in the triangle's barycentric coordinates and in height (the P1 field of the prism's three
tetrahedra differs from it by O(h²) inside the prism, and equals it on the prism's edges). A
point inside a fascicle reads the inside nodes of the perineurium's doubled nodes, a point
outside the copies: the triangle it falls in carries the right ones.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from openvns.errors import ValidationError
from openvns.nerve.fem.mesh3d import Mesh3D

FloatArray = npt.NDArray[np.float64]

__all__ = ["interpolate"]


def interpolate(
    mesh: Mesh3D, values: FloatArray, x_um: FloatArray, y_um: FloatArray, z_um: FloatArray
) -> FloatArray:
    """``values`` (per mesh node) at the points ``(x, y, z)`` (arrays of one shape).

    Raises
    ------
    ValidationError
        A point outside the mesh, or in a region left out of it (an insulator).
    """
    x, y, z = (np.asarray(v, dtype=np.float64) for v in (x_um, y_um, z_um))
    shape = x.shape
    x, y, z = x.ravel(), y.ravel(), z.ravel()
    tri = mesh.section.delaunay
    s = tri.find_simplex(np.column_stack([x, y]))
    lev = mesh.levels_um
    k = np.searchsorted(lev, z, side="right") - 1
    k = np.where(z == lev[-1], len(lev) - 2, k)
    outside = (s < 0) | (k < 0) | (k >= len(lev) - 1)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise ValidationError("points", (x[i], y[i], z[i]), "points inside the mesh")
    t = tri.transform[s]  # barycentric transform of scipy
    b2 = np.einsum("nij,nj->ni", t[:, :2, :], np.column_stack([x, y]) - t[:, 2, :])
    bary = np.column_stack([b2, 1.0 - b2.sum(axis=1)])  # weights of simplex vertices 0,1,2
    nodes2 = mesh.triangle_nodes[s]  # (n, 3) doubled 2-D nodes, simplex vertex order
    w = (z - lev[k]) / (lev[k + 1] - lev[k])
    lo = mesh.node_of[nodes2, k[:, None]]
    hi = mesh.node_of[nodes2, k[:, None] + 1]
    if np.any(lo < 0) or np.any(hi < 0):
        i = int(np.flatnonzero(np.any(lo < 0, axis=1) | np.any(hi < 0, axis=1))[0])
        raise ValidationError("points", (x[i], y[i], z[i]), "points in a conducting region")
    v = (bary * ((1 - w)[:, None] * values[lo] + w[:, None] * values[hi])).sum(axis=1)
    return np.asarray(v.reshape(shape), dtype=np.float64)
