"""Quasi-static volume conduction on a tetrahedral mesh: ``∇·(σ∇V) = 0``, P1 elements.

* Conductivity per region, a diagonal tensor ``(σx, σy, σz)`` (``z`` along the nerve), in S/m.
* A thin resistive layer couples its two sides by ``∫ g (u⁺ − u⁻)(v⁺ − v⁻) dS`` with
  ``g = σ_layer / t_layer`` (the contact-impedance condition ASCENT uses for the perineurium).
* A contact injects its current uniformly over its surface (a Neumann source, current density
  ``I / area``); the ground is the domain's outer boundary (``V = 0``). The field is linear in
  the current: one solve per contact at 1 mA, potentials in mV per mA.
* The system is symmetric positive definite; it is solved by conjugate gradients preconditioned
  with pyamg's smoothed-aggregation AMG (MIT), to a relative residual of :data:`RTOL`.

Lengths are in µm in the mesh, SI inside the assembly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped]
from scipy.sparse.linalg import cg  # type: ignore[import-untyped]

from openvns.errors import ValidationError
from openvns.nerve.fem.mesh3d import Mesh3D

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

__all__ = ["RTOL", "Source", "StageCallback", "boundary_faces", "solve_sources", "stiffness"]

#: ``stage(name, done, total)``: a named stage of the work starts (``done`` of ``total`` stages
#: finished); a last call with ``done == total`` (name ``"done"``) when all are.
StageCallback = Callable[[str, int, int], None]

log = logging.getLogger(__name__)

#: Relative residual of the conjugate-gradient solve.
RTOL = 1e-8
#: Most conjugate-gradient iterations before giving up (AMG needs a few tens).
MAX_ITERATIONS = 2000
_UM = 1e-6  # metres per µm


@dataclass(frozen=True)
class Source:
    """1 mA injected over boundary triangles (node indices ``faces``, ``(k, 3)``, uniform
    current density), or at nodes with weights summing to 1 (``nodes``, ``weights``: a point
    source is one node with weight 1)."""

    name: str
    faces: IntArray | None = None
    nodes: IntArray | None = None
    weights: FloatArray | None = None


def stiffness(mesh: Mesh3D, sigma: Mapping[int, tuple[float, float, float]]) -> sp.csr_matrix:
    """The conduction matrix (S): elements' ``∫ σ∇φᵢ·∇φⱼ`` plus the thin layers' coupling."""
    missing = sorted(set(np.unique(mesh.regions).tolist()) - set(sigma))
    if missing:
        raise ValidationError("sigma", missing, "a conductivity for every region of the mesh")
    x = mesh.points_um[mesh.tets] * _UM  # (m, 4, 3)
    d = x[:, 1:, :] - x[:, :1, :]  # (m, 3, 3) rows: edges from node 0
    det = np.linalg.det(d)
    inv = np.linalg.inv(d)  # columns: gradients of λ1..λ3
    g = np.concatenate([-inv.sum(axis=2, keepdims=True), inv], axis=2)  # (m, 3, 4)
    table = np.zeros((int(mesh.regions.max()) + 1, 3))
    for region, value in sigma.items():
        if 0 <= region < len(table):
            table[region] = value
    sig = table[mesh.regions]  # (m, 3)
    vol = np.abs(det) / 6.0
    k = np.einsum("m,mdi,md,mdj->mij", vol, g, sig, g)
    rows = np.repeat(mesh.tets, 4, axis=1).ravel()
    cols = np.tile(mesh.tets, (1, 4)).ravel()
    n = len(mesh.points_um)
    a = sp.coo_matrix((k.ravel(), (rows, cols)), shape=(n, n)).tocsr()
    if len(mesh.layer_triangles):
        a = a + _layer_coupling(mesh, n)
    return a


def _tri_areas(p: FloatArray) -> FloatArray:
    return np.asarray(0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1))


def _layer_coupling(mesh: Mesh3D, n: int) -> sp.csr_matrix:
    """``g ∫ (u_in − u_out)(v_in − v_out)`` over the interface triangles (P1 mass matrices)."""
    inside, outside = mesh.layer_triangles[:, 0], mesh.layer_triangles[:, 1]
    area = _tri_areas(mesh.points_um[inside] * _UM)
    mass = (np.ones((3, 3)) + np.eye(3)) / 12.0  # ∫ φi φj / area on a triangle
    m = (mesh.layer_conductance * area)[:, None, None] * mass  # (k, 3, 3)
    blocks = []
    for ra, ca, sign in ((inside, inside, 1.0), (outside, outside, 1.0),
                         (inside, outside, -1.0), (outside, inside, -1.0)):  # fmt: skip
        rows = np.repeat(ra, 3, axis=1).ravel()
        cols = np.tile(ca, (1, 3)).ravel()
        blocks.append(sp.coo_matrix(((sign * m).ravel(), (rows, cols)), shape=(n, n)))
    return sp.csr_matrix(sum(b.tocsr() for b in blocks))


def boundary_faces(mesh: Mesh3D) -> IntArray:
    """Triangles on the mesh's boundary (faces of exactly one tetrahedron), ``(k, 3)``; the
    two sides of a thin layer count as boundary too."""
    t = mesh.tets
    faces = np.concatenate([t[:, [0, 1, 2]], t[:, [0, 1, 3]], t[:, [0, 2, 3]], t[:, [1, 2, 3]]])
    s = np.sort(faces, axis=1)
    n = np.int64(len(mesh.points_um))
    if n**3 < np.iinfo(np.int64).max:  # one integer per face: a 1-D unique, far faster
        key = (s[:, 0] * n + s[:, 1]) * n + s[:, 2]
        _, first, counts = np.unique(key, return_index=True, return_counts=True)
    else:
        _, first, counts = np.unique(s, axis=0, return_index=True, return_counts=True)
    return np.asarray(faces[first[counts == 1]], dtype=np.int64)


def _load(mesh: Mesh3D, faces: IntArray, current_A: float) -> FloatArray:
    area = _tri_areas(mesh.points_um[faces] * _UM)
    if area.sum() <= 0:
        raise ValidationError("source", len(faces), "a contact with a surface (no face found)")
    f = np.zeros(len(mesh.points_um))
    np.add.at(f, faces.ravel(), np.repeat(current_A * area / area.sum() / 3.0, 3))
    return f


class _Counter:
    """A conjugate-gradient callback counting the iterations."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, _: FloatArray) -> None:
        self.n += 1


def solve_sources(
    mesh: Mesh3D,
    sigma: Mapping[int, tuple[float, float, float]],
    sources: list[Source],
    grounded: BoolArray,
    *,
    progress: Callable[[int, int], None] | None = None,
    boundary_mV: Mapping[str, FloatArray] | None = None,
    stage: StageCallback | None = None,
    stage_offset: tuple[int, int] = (0, 0),
) -> dict[str, FloatArray]:
    """Potentials at every node, mV per mA, for 1 mA from each source in turn.

    Parameters
    ----------
    grounded
        ``(n_nodes,)`` nodes held at 0 V (the return).
    boundary_mV
        Per source, values (mV, per node) to hold the grounded nodes at instead of 0: the
        verification imposes an analytic solution there.
    progress
        ``progress(done, total)`` after each solve.
    stage
        Told as each stage starts: ``"assembling"`` (the matrix and the AMG hierarchy), then
        ``"solving <source name>"`` per source; ``stage_offset = (before, after)`` stages of
        the caller's own come before and after these in ``done`` and ``total`` (the caller
        reports the final ``"done"``).
    """
    import pyamg  # type: ignore[import-untyped]

    before, after = stage_offset
    total = before + 1 + len(sources) + after

    def tell(name: str, done: int) -> None:
        log.info("fem: %s (%d/%d)", name, done + 1, total)
        if stage is not None:
            stage(name, done, total)

    tell("assembling", before)
    a = stiffness(mesh, sigma)
    free = ~np.asarray(grounded, dtype=bool)
    if free.all():
        raise ValidationError("grounded", 0, "at least one grounded node (the return)")
    af = a[free][:, free].tocsr()
    coupling = a[free][:, ~free].tocsr()
    ml = pyamg.smoothed_aggregation_solver(af, symmetry="symmetric", max_coarse=500)
    m = ml.aspreconditioner(cycle="V")
    out: dict[str, FloatArray] = {}
    for i, s in enumerate(sources):
        tell(f"solving {s.name}", before + 1 + i)
        if s.faces is not None:
            f = _load(mesh, s.faces, 1e-3)[free]
        elif s.nodes is not None and s.weights is not None:
            full_f = np.zeros(len(mesh.points_um))
            np.add.at(full_f, s.nodes, 1e-3 * np.asarray(s.weights) / np.sum(s.weights))
            f = full_f[free]
        else:
            raise ValidationError("source", s.name, "faces, or nodes with weights")
        full = np.zeros(len(mesh.points_um))
        if boundary_mV is not None and s.name in boundary_mV:
            full[~free] = np.asarray(boundary_mV[s.name])[~free] * 1e-3  # V at 1 mA
            f = f - coupling @ full[~free]
        iterations = _Counter()
        u, info = cg(af, f, rtol=RTOL, atol=0.0, M=m, maxiter=MAX_ITERATIONS, callback=iterations)
        if info != 0:
            raise RuntimeError(f"conjugate gradients did not converge for {s.name} ({info})")
        full[free] = u
        out[s.name] = full * 1e3  # V at 1 mA -> mV per mA
        log.info("solved %s: %d unknowns, %d iterations", s.name, int(free.sum()), iterations.n)
        if progress is not None:
            progress(i + 1, len(sources))
    return out
