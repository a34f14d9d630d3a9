"""Solver kernels of the fibre models and the backend interface (:mod:`.backend`)."""
