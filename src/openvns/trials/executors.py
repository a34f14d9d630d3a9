"""Executors: run a list of independent patient chunks and return their results in order.

An executor is any callable ``executor(fn, chunks) -> list`` that applies ``fn`` to every chunk
and returns the results **in the order of** ``chunks``. Every chunk carries its own seeds (each
patient's streams are named by the root seed and the patient index), so the result does not
depend on which executor runs it, how many workers it has, or how the patients are chunked.

Built in: :func:`serial` and :class:`ProcessPool` (``concurrent.futures``). The extension point
for a Dask cluster is :func:`dask_executor`: any object with the same call signature can be
passed to :func:`openvns.trials.runner.run_trial` as ``executor=``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Protocol, TypeVar

from openvns.errors import ValidationError

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["EXECUTORS", "ChunkExecutor", "ProcessPool", "dask_executor", "get_executor", "serial"]


class ChunkExecutor(Protocol):
    """Apply ``fn`` to every chunk; results in the order of ``chunks``."""

    def __call__(self, fn: Callable[[T], R], chunks: Sequence[T]) -> list[R]: ...


def serial(fn: Callable[[T], R], chunks: Sequence[T]) -> list[R]:
    """Run the chunks one after the other in this process."""
    return [fn(c) for c in chunks]


class ProcessPool:
    """Run the chunks on a ``concurrent.futures.ProcessPoolExecutor`` with ``workers`` processes.

    ``fn``, the chunks and their results must be picklable (module-level functions and data).
    """

    def __init__(self, workers: int = 1) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValidationError("workers", workers, "a whole number of processes ≥ 1")
        self.workers = workers

    def __call__(self, fn: Callable[[T], R], chunks: Sequence[T]) -> list[R]:
        if not chunks:
            return []
        with ProcessPoolExecutor(max_workers=min(self.workers, len(chunks))) as pool:
            return list(pool.map(fn, chunks))


def dask_executor(address: str) -> ChunkExecutor:
    """Extension point: an executor that submits the chunks to a Dask cluster at ``address``.

    Not implemented yet. The implementation is ``client.gather(client.map(fn, chunks))`` with
    ``distributed.Client(address)``, which keeps the chunk order and so gives the same result.
    """
    raise NotImplementedError(
        f"the Dask executor ({address!r}) is not implemented yet; use 'serial' or 'process'"
    )


#: Executor names accepted by :func:`get_executor`.
EXECUTORS: tuple[str, ...] = ("serial", "process")


def get_executor(name: str, workers: int = 1) -> ChunkExecutor:
    """The built-in executor called ``name`` (``"serial"`` or ``"process"``)."""
    if name == "serial":
        return serial
    if name == "process":
        return ProcessPool(workers)
    raise ValidationError("executor", name, "one of " + ", ".join(EXECUTORS))
