"""Executors: run a list of independent patient chunks and return their results in order.

An executor is any callable ``executor(fn, chunks, on_result=None) -> list`` that applies ``fn``
to every chunk and returns the results **in the order of** ``chunks``. Every chunk carries its
own seeds (each patient's streams are named by the root seed and the patient index), so the
result does not depend on which executor runs it, how many workers it has, or how the patients
are chunked.

``on_result(index, result)``, when given, is called in this process once per chunk as soon as
that chunk's result is here (in completion order, which need not be chunk order); the returned
list is in chunk order all the same. :func:`openvns.trials.runner.run_trial` uses it to report
progress.

Built in: :func:`serial`, :class:`ProcessPool` (``concurrent.futures``) and :class:`DaskExecutor`
(a Dask ``distributed`` cluster, local or at a scheduler address; needs the ``dask`` extra,
``pip install 'openvns[dask]'``, imported only when used). Any object with the same call
signature can be passed to :func:`openvns.trials.runner.run_trial` as ``executor=``; one without
the ``on_result`` keyword works too, but then progress is reported only at the end.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from openvns.errors import ValidationError

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)

__all__ = [
    "EXECUTORS",
    "ChunkExecutor",
    "DaskExecutor",
    "OnResult",
    "ProcessPool",
    "dask_executor",
    "get_executor",
    "run_chunks",
    "serial",
]

#: ``on_result(chunk_index, result)``: called once per chunk as its result arrives.
OnResult = Callable[[int, Any], None]

_DASK_HINT = "pip install 'openvns[dask]'"


class ChunkExecutor(Protocol):
    """Apply ``fn`` to every chunk; results in the order of ``chunks``.

    ``on_result(index, result)``, when given, is called in the calling process for every chunk
    as its result arrives (any order).
    """

    def __call__(
        self, fn: Callable[[T], R], chunks: Sequence[T], on_result: OnResult | None = None
    ) -> list[R]: ...


def _check_workers(workers: object) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValidationError("workers", workers, "a whole number of processes ≥ 1")
    return workers


def serial(fn: Callable[[T], R], chunks: Sequence[T], on_result: OnResult | None = None) -> list[R]:
    """Run the chunks one after the other in this process."""
    out: list[R] = []
    for i, c in enumerate(chunks):
        r = fn(c)
        if on_result is not None:
            on_result(i, r)
        out.append(r)
    return out


def _start_method(requested: str | None) -> str:
    """``requested``, else the platform's default unless that is ``fork`` in a threaded process.

    Forking a process that runs other threads (a Dask client leaves some behind, so do GUI and
    web frameworks) can deadlock the child, and Python ≥ 3.12 warns about it; ``forkserver``
    (Python 3.14's default on Linux) forks from a clean single-threaded server instead.
    """
    if requested is not None:
        return requested
    method = multiprocessing.get_start_method()
    if method == "fork" and threading.active_count() > 1:
        available = multiprocessing.get_all_start_methods()
        return "forkserver" if "forkserver" in available else "spawn"
    return method


class ProcessPool:
    """Run the chunks on a ``concurrent.futures.ProcessPoolExecutor`` with ``workers`` processes.

    ``fn``, the chunks and their results must be picklable (module-level functions and data).
    A pool is started for each call and shut down afterwards; on the first failing chunk the
    chunks not started yet are cancelled and the error is raised.

    Parameters
    ----------
    workers
        Worker processes (at most one per chunk is started).
    start_method
        ``multiprocessing`` start method (``"fork"``, ``"forkserver"``, ``"spawn"``). ``None``:
        the platform's default, except that ``"forkserver"`` replaces ``"fork"`` while this
        process runs other threads. With ``"forkserver"`` and ``"spawn"`` the workers import
        ``fn`` and the chunks' functions by name, so a script must guard its entry point with
        ``if __name__ == "__main__":``.
    """

    def __init__(self, workers: int = 1, start_method: str | None = None) -> None:
        self.workers = _check_workers(workers)
        if start_method is not None and start_method not in (
            methods := multiprocessing.get_all_start_methods()
        ):
            raise ValidationError("start_method", start_method, "one of " + ", ".join(methods))
        self.start_method = start_method

    def __repr__(self) -> str:
        return f"ProcessPool(workers={self.workers}, start_method={self.start_method!r})"

    def __call__(
        self, fn: Callable[[T], R], chunks: Sequence[T], on_result: OnResult | None = None
    ) -> list[R]:
        if not chunks:
            return []
        method = _start_method(self.start_method)
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            # the server imports the runner once; every worker forks from it, already loaded
            context.set_forkserver_preload(["openvns.trials.runner"])
        workers = min(self.workers, len(chunks))
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            if on_result is None:
                return list(pool.map(fn, chunks))
            futures: dict[Future[R], int] = {pool.submit(fn, c): i for i, c in enumerate(chunks)}
            results: list[R | None] = [None] * len(chunks)
            pending: set[Future[R]] = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                    for fut in sorted(done, key=futures.__getitem__):
                        r = fut.result()  # raises the chunk's error
                        i = futures[fut]
                        results[i] = r
                        on_result(i, r)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        return results  # type: ignore[return-value]  # every slot is filled


def _import_distributed() -> Any:
    """The ``distributed`` module, or an ImportError that says how to install it."""
    try:
        return importlib.import_module("distributed")
    except ImportError as exc:
        raise ImportError(
            "the Dask executor needs dask.distributed, which is not installed; "
            f"install it with: {_DASK_HINT}"
        ) from exc


class DaskExecutor:
    """Run the chunks on a Dask ``distributed`` cluster; results in chunk order.

    Parameters
    ----------
    address
        Scheduler address of a running cluster (``"tcp://host:8786"``); its workers need
        ``openvns`` (and whatever defines ``fn`` and the recruitment function) importable.
        ``None`` starts a :class:`distributed.LocalCluster` of ``workers`` single-threaded worker
        processes for each call and closes it afterwards.
    workers
        Worker processes of the local cluster (ignored with ``address``).

    Notes
    -----
    The chunks are submitted with ``client.map(fn, chunks, pure=False)`` and gathered in chunk
    order, so the result is the same as :func:`serial`'s. ``dask`` is imported on the first call
    only; without the ``dask`` extra that call raises :class:`ImportError` naming
    ``pip install 'openvns[dask]'``.
    """

    def __init__(self, address: str | None = None, workers: int = 1) -> None:
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ValidationError(
                "scheduler", address, "a Dask scheduler address such as 'tcp://host:8786'"
            )
        self.address = address
        self.workers = _check_workers(workers)

    def __repr__(self) -> str:
        where = repr(self.address) if self.address is not None else f"local×{self.workers}"
        return f"DaskExecutor({where})"

    def __call__(
        self, fn: Callable[[T], R], chunks: Sequence[T], on_result: OnResult | None = None
    ) -> list[R]:
        distributed = _import_distributed()
        if not chunks:
            return []
        if self.address is not None:
            log.info("dask: %d chunks on the cluster at %s", len(chunks), self.address)
            with distributed.Client(self.address) as client:
                return _run_on(client, distributed, fn, chunks, on_result)
        n = min(self.workers, len(chunks))
        log.info("dask: %d chunks on a local cluster of %d workers", len(chunks), n)
        with (
            distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port (None still tries 8787 and warns)
                silence_logs=logging.ERROR,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            return _run_on(client, distributed, fn, chunks, on_result)


def _run_on(
    client: Any,
    distributed: Any,
    fn: Callable[[T], R],
    chunks: Sequence[T],
    on_result: OnResult | None,
) -> list[R]:
    futures = client.map(fn, list(chunks), pure=False)
    try:
        if on_result is None:
            return list(client.gather(futures))
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[R | None] = [None] * len(futures)
        for fut, r in distributed.as_completed(futures, with_results=True):
            i = index[fut.key]
            results[i] = r
            on_result(i, r)
        return results  # type: ignore[return-value]  # every slot is filled
    finally:
        client.cancel(futures)


def dask_executor(address: str | None = None, workers: int = 1) -> DaskExecutor:
    """A :class:`DaskExecutor` for the scheduler at ``address`` (a local cluster if ``None``)."""
    return DaskExecutor(address, workers)


def _accepts_on_result(executor: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(executor).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == "on_result" and p.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for p in params
    )


def run_chunks(
    executor: Callable[..., list[R]],
    fn: Callable[[T], R],
    chunks: Sequence[T],
    on_result: OnResult | None = None,
) -> list[R]:
    """``executor(fn, chunks)`` with ``on_result`` passed on where the executor takes it.

    An executor without an ``on_result`` keyword (a plain ``executor(fn, chunks)``) is called
    without it, and ``on_result`` is then called for every chunk, in order, once all are done.
    """
    if on_result is None:
        return executor(fn, chunks)
    if _accepts_on_result(executor):
        return executor(fn, chunks, on_result=on_result)
    results = executor(fn, chunks)
    for i, r in enumerate(results):
        on_result(i, r)
    return results


#: Executor names accepted by :func:`get_executor`.
EXECUTORS: tuple[str, ...] = ("serial", "process", "dask")


def get_executor(name: str, workers: int = 1, scheduler: str | None = None) -> ChunkExecutor:
    """The built-in executor called ``name``.

    Parameters
    ----------
    name
        ``"serial"``, ``"process"`` or ``"dask"``.
    workers
        Worker processes for ``"process"`` and a local ``"dask"`` cluster (ignored by
        ``"serial"``).
    scheduler
        Dask scheduler address (``"tcp://host:8786"``); only with ``"dask"``. Without it,
        ``"dask"`` starts a local cluster of ``workers`` processes for each run.
    """
    if name not in EXECUTORS:
        raise ValidationError("executor", name, "one of " + ", ".join(EXECUTORS))
    if scheduler is not None and name != "dask":
        raise ValidationError(
            "scheduler", scheduler, f"no scheduler address with executor {name!r} (only 'dask')"
        )
    if name == "serial":
        return serial
    if name == "process":
        return ProcessPool(workers)
    return DaskExecutor(scheduler, workers)
