"""Finite-element fields of a nerve in its tissues (own P1 tetrahedral solver, pyamg AMG).

:mod:`~openvns.nerve.fem.mesh2d` triangulates a cross-section of circles,
:mod:`~openvns.nerve.fem.mesh3d` extrudes it along the nerve into tetrahedra with the fascicles'
perineurium as a thin resistive layer (doubled nodes), :mod:`~openvns.nerve.fem.solve` assembles
and solves the quasi-static conduction problem per contact.
"""
