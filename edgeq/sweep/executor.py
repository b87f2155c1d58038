"""Where sweep jobs run: Ray (a farm, or a local instance bound to 127.0.0.1) or a local process pool.

Both give the scheduler the same calls (``put``, ``fits``, ``submit``,
``wait``, ``cancel``, ``close``) and run the same job functions
(:mod:`edgeq.sweep.jobs`, and the farm's :func:`edgeq.farm.jobs.profile_job`),
so a sweep gives the same records on either. A job asks for resources by the
farm's names (:mod:`edgeq.farm.resources`): a conversion one unit of the
TensorFlow ability, a profile one unit of its target (one board, held
exclusively). On a local Ray instance or in the pool this machine declares
those resources itself (:func:`local_resources`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any, Protocol

from edgeq.errors import DependencyError, UsageError
from edgeq.farm import cluster
from edgeq.farm import jobs as farm_jobs
from edgeq.farm.resources import CAPABILITIES, target_resource
from edgeq.log import logger
from edgeq.procs import Terminated

RETRIES = 3  # a task whose worker died runs again this many times
EXECUTORS = ("auto", "ray", "pool")


class Executor(Protocol):
    """What the scheduler needs from a place that runs jobs."""

    name: str
    profile_fn: Callable[..., dict[str, Any]]

    def put(self, value: Any) -> Any: ...
    def fits(self, resources: dict[str, float]) -> bool: ...
    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...], resources: dict[str, float]) -> Any: ...
    def wait(self, handles: list[Any], timeout: float | None) -> list[tuple[Any, Any]]: ...
    def cancel(self, handles: list[Any]) -> None: ...
    def close(self) -> None: ...


def job_resources(kind: str, target: str | None) -> dict[str, float]:
    """The resources a job asks for: the TensorFlow ability (conversions, evaluations) or one board."""
    if kind == "profile" and target is not None:
        return {target_resource(target): 1.0}
    return {CAPABILITIES["tensorflow"]: 1.0}


def local_resources(targets: tuple[str, ...], cpus: int) -> dict[str, float]:
    """What this machine offers: TensorFlow jobs and emulators per CPU, one slot per wall-clock or real target."""
    out = {CAPABILITIES["tensorflow"]: float(cpus)}
    for target in targets:
        emulated = target.startswith("qemu-")
        out[target_resource(target)] = float(cpus if emulated else 1)
    return out


def cpu_count() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def ray_available() -> bool:
    return importlib.util.find_spec("ray") is not None


def resolve_executor(kind: str, farm: str | None) -> str:
    """``ray`` or ``pool`` for ``--executor`` ``kind`` (auto: Ray when installed) and ``--farm``."""
    if kind not in EXECUTORS:
        raise UsageError(f"--executor {kind}: choose one of {', '.join(EXECUTORS)}")
    if farm is not None and kind == "pool":
        raise UsageError("--farm runs jobs on a Ray cluster; drop --executor pool")
    use_ray = farm is not None or kind == "ray" or (kind == "auto" and ray_available())
    if use_ray and not ray_available():
        raise DependencyError("Ray is not installed; pip install 'edgeq[farm]' (or use --executor pool)")
    return "ray" if use_ray else "pool"


@contextlib.contextmanager
def open_executor(kind: str, farm: str | None, targets: tuple[str, ...]) -> Iterator[Executor]:
    """The executor of a sweep (``kind`` from :func:`resolve_executor`), closed (its jobs ended) on leaving."""
    resources = local_resources(targets, cpu_count())
    executor: Executor = RayExecutor(farm, resources) if kind == "ray" else PoolExecutor(resources)
    try:
        yield executor
    finally:
        executor.close()


def _die_with_parent() -> None:
    """Pool worker initializer: the kernel kills the worker when the sweep process dies (Linux)."""
    import ctypes
    import ctypes.util
    import signal

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG


class PoolExecutor:
    """Spawned worker processes on this machine; resources are counted here, as Ray would."""

    name = "pool"

    def __init__(self, capacity: dict[str, float]):
        import multiprocessing

        self.capacity = capacity
        self.in_use: dict[str, float] = dict.fromkeys(capacity, 0.0)
        self.held: dict[Any, dict[str, float]] = {}
        context = multiprocessing.get_context("spawn")
        self.pool = futures.ProcessPoolExecutor(cpu_count(), mp_context=context, initializer=_die_with_parent)
        self.profile_fn = farm_jobs.profile_job

    def put(self, value: Any) -> Any:
        return value

    def fits(self, resources: dict[str, float]) -> bool:
        return all(self.in_use.get(k, 0.0) + v <= self.capacity.get(k, 0.0) for k, v in resources.items())

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...], resources: dict[str, float]) -> Any:
        future = self.pool.submit(fn, *args)
        for key, amount in resources.items():
            self.in_use[key] = self.in_use.get(key, 0.0) + amount
        self.held[future] = resources
        return future

    def wait(self, handles: list[Any], timeout: float | None) -> list[tuple[Any, Any]]:
        done, _ = futures.wait(handles, timeout=timeout, return_when=futures.FIRST_COMPLETED)
        out = []
        for future in done:
            for key, amount in self.held.pop(future, {}).items():
                self.in_use[key] -= amount
            error = future.exception()
            out.append((future, error if error is not None else future.result()))
        return out

    def cancel(self, handles: list[Any]) -> None:
        for future in handles:
            future.cancel()

    def close(self) -> None:
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # a running job is not waited for: the sweep is over
            with contextlib.suppress(Exception):
                process.kill()
                process.join(5)


@contextlib.contextmanager
def _keep_signal_handlers() -> Iterator[None]:
    """Put back edgeq's SIGTERM/SIGHUP/SIGINT handlers after Ray's start-up replaced them with its own.

    Ray's handler ends the process at once; edgeq's unwind, so the running jobs are stopped and the
    results file stays as the last finished job left it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    try:
        yield
    except SystemExit as exc:  # Ray's handler, when the signal came while Ray started
        if exc.code in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(Exception):
                cluster.import_ray().shutdown()
            raise Terminated(int(exc.code)) from None
        raise
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)


class RayExecutor:
    """Jobs as Ray tasks: on a farm (``farm`` = HEAD:PORT) or a Ray instance started here on 127.0.0.1."""

    name = "ray"

    def __init__(self, farm: str | None, local: dict[str, float]):
        ray = cluster.import_ray()
        self.ray = ray
        self._stack = contextlib.ExitStack()
        self.profile_fn = farm_jobs.profile_job
        # a farm, or a private instance on 127.0.0.1 offering this machine's resources
        with _keep_signal_handlers():
            self._stack.enter_context(cluster.connect(farm, resources=None if farm else local))
        logger.debug("sweep jobs run on Ray: %s", ray.cluster_resources())

    def put(self, value: Any) -> Any:
        return self.ray.put(value)

    def fits(self, resources: dict[str, float]) -> bool:
        return True  # Ray queues a task until a node has its resources

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...], resources: dict[str, float]) -> Any:
        return cluster.remote_call(fn, *args, resources=resources, retries=RETRIES)

    def wait(self, handles: list[Any], timeout: float | None) -> list[tuple[Any, Any]]:
        try:
            ready, _ = self.ray.wait(handles, num_returns=1, timeout=timeout)
        except SystemError as exc:  # Ctrl-C or SIGTERM raised while Ray's C++ waited
            if isinstance(exc.__cause__, (KeyboardInterrupt, Terminated)):
                raise exc.__cause__ from None
            raise
        if ready:
            ready, _ = self.ray.wait(handles, num_returns=len(handles), timeout=0)
        out = []
        for ref in ready:
            try:
                out.append((ref, cluster.result(ref)))
            except Exception as exc:  # the job's own error, or the farm's when Ray gave up on it
                out.append((ref, getattr(exc, "cause", None) or exc))
        return out

    def cancel(self, handles: list[Any]) -> None:
        for ref in handles:  # on a farm the tasks would run on; locally shutting Ray down ends them anyway
            with contextlib.suppress(Exception):
                self.ray.cancel(ref, force=True)

    def close(self) -> None:
        self._stack.close()
