"""Executors: Dask (local cluster and scheduler address), progress reporting, errors."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import distributed  # the dev extra installs it: these tests run wherever the suite runs
import numpy as np
import pytest

from openvns.errors import ValidationError
from openvns.trials.executors import (
    EXECUTORS,
    DaskExecutor,
    ProcessPool,
    _start_method,
    get_executor,
    run_chunks,
    serial,
)
from openvns.trials.runner import TrialResult, run_trial
from tests.trials.test_runner import analytic_recruitment, small_design

ARRAYS = (
    "nrs",
    "observed",
    "current_mA",
    "ae_reported",
    "dropout_day",
    "eligible",
    "coupling",
    "patient_index",
    "arm",
    "pgic",
    "bpi_interference",
    "fiqr",
    "sleep",
)


def _run(**kw: Any) -> TrialResult:
    return run_trial(
        small_design(), n_per_arm=5, root_seed=11, recruitment=analytic_recruitment, **kw
    )


def _assert_identical(a: TrialResult, b: TrialResult) -> None:
    for f in ARRAYS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert a.config_hash == b.config_hash


def _square(x: int) -> int:
    return x * x


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise RuntimeError("chunk 3 failed")
    return x


@pytest.fixture(scope="module")
def reference() -> TrialResult:
    return _run()


@pytest.fixture(scope="module")
def scheduler_address() -> Iterator[str]:
    """A one-worker cluster in this process (threads), reached through its address."""
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster.scheduler_address


def test_dask_local_cluster_two_workers_identical_to_serial(reference: TrialResult) -> None:
    r = _run(executor="dask", workers=2, chunk_size=3)
    _assert_identical(r, reference)


def test_dask_scheduler_address_identical_with_progress(
    reference: TrialResult, scheduler_address: str
) -> None:
    calls: list[tuple[int, int]] = []
    r = _run(
        executor="dask",
        scheduler=scheduler_address,
        chunk_size=4,
        progress=lambda done, total: calls.append((done, total)),
    )
    _assert_identical(r, reference)
    # 10 patients in chunks of 4, 4, 2: three calls, whatever order the chunks finish in
    assert len(calls) == 3
    assert all(total == 10 for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert done[-1] == 10


@pytest.mark.parametrize(
    "executor",
    [serial, ProcessPool(2)],
    ids=["serial", "process"],
)
def test_progress_increasing_to_total_and_same_result(
    reference: TrialResult, executor: Any
) -> None:
    calls: list[tuple[int, int]] = []
    r = _run(executor=executor, chunk_size=3, progress=lambda d, t: calls.append((d, t)))
    _assert_identical(r, reference)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) == 4  # 3 + 3 + 3 + 1
    assert calls[-1] == (10, 10)


def test_progress_with_an_executor_without_on_result(reference: TrialResult) -> None:
    def plain(fn: Any, chunks: Any) -> list[Any]:
        return [fn(c) for c in chunks]

    calls: list[tuple[int, int]] = []
    r = _run(executor=plain, chunk_size=4, progress=lambda d, t: calls.append((d, t)))
    _assert_identical(r, reference)
    assert calls == [(4, 10), (8, 10), (10, 10)]


@pytest.mark.parametrize(
    "executor",
    [serial, ProcessPool(2)],
    ids=["serial", "process"],
)
def test_results_in_chunk_order_with_on_result(executor: Any) -> None:
    seen: dict[int, int] = {}
    out = run_chunks(executor, _square, list(range(7)), lambda i, r: seen.setdefault(i, r))
    assert out == [x * x for x in range(7)]
    assert seen == {i: i * i for i in range(7)}


def test_dask_results_in_chunk_order_and_errors(scheduler_address: str) -> None:
    ex = DaskExecutor(scheduler_address)
    seen: dict[int, int] = {}
    assert ex(_square, list(range(9)), on_result=lambda i, r: seen.setdefault(i, r)) == [
        x * x for x in range(9)
    ]
    assert seen == {i: i * i for i in range(9)}
    assert ex(_square, []) == []
    with pytest.raises(RuntimeError, match="chunk 3 failed"):
        ex(_fail_on_three, list(range(5)))


def test_process_pool_start_methods(reference: TrialResult) -> None:
    r = _run(executor=ProcessPool(2, start_method="forkserver"), chunk_size=4)
    _assert_identical(r, reference)
    with pytest.raises(ValidationError) as e:
        ProcessPool(2, start_method="vfork")
    assert e.value.field == "start_method"


def test_no_fork_while_other_threads_run() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert _start_method(None) in ("forkserver", "spawn")
        assert _start_method("spawn") == "spawn"
    finally:
        stop.set()
        thread.join()


def test_process_pool_raises_the_chunk_error() -> None:
    with pytest.raises(RuntimeError, match="chunk 3 failed"):
        ProcessPool(2)(_fail_on_three, list(range(6)), on_result=lambda i, r: None)


def test_get_executor_names_and_errors() -> None:
    assert EXECUTORS == ("serial", "process", "dask")
    assert get_executor("serial") is serial
    assert isinstance(get_executor("process", 2), ProcessPool)
    ex = get_executor("dask", 2)
    assert isinstance(ex, DaskExecutor)
    assert ex.address is None
    assert ex.workers == 2
    remote = get_executor("dask", scheduler="tcp://10.0.0.5:8786")
    assert isinstance(remote, DaskExecutor)
    assert remote.address == "tcp://10.0.0.5:8786"
    with pytest.raises(ValidationError, match="executor") as e:
        get_executor("spark")
    assert e.value.field == "executor"
    for name in ("serial", "process"):
        with pytest.raises(ValidationError) as e:
            get_executor(name, scheduler="tcp://10.0.0.5:8786")
        assert e.value.field == "scheduler"
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValidationError) as e:
            DaskExecutor(workers=bad)  # type: ignore[arg-type]
        assert e.value.field == "workers"
    with pytest.raises(ValidationError) as e:
        DaskExecutor("  ")
    assert e.value.field == "scheduler"


def test_run_trial_rejects_scheduler_without_dask() -> None:
    for executor in ("serial", ProcessPool(1)):
        with pytest.raises(ValidationError) as e:
            _run(executor=executor, scheduler="tcp://10.0.0.5:8786")
        assert e.value.field == "scheduler"
    with pytest.raises(ValidationError) as e:
        _run(executor="threads")
    assert e.value.field == "executor"


def test_missing_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes ``import distributed`` fail
    with pytest.raises(ImportError, match=r"pip install 'openvns\[dask\]'"):
        DaskExecutor(workers=1)(_square, [1])


def test_core_imports_without_dask() -> None:
    code = (
        "import sys; sys.modules['dask'] = sys.modules['distributed'] = None; "
        "import openvns.trials.executors, openvns.trials.runner; "
        "from openvns.trials.executors import get_executor; get_executor('dask')"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
