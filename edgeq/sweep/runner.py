"""Running a sweep: jobs go to the executor as soon as what they need is there; every finished job is saved at once.

A profile or an evaluation waits only for its own conversion; everything else
runs in parallel, as far as the executor's resources allow. A failed job is
recorded with its one-line error and the jobs that need it are recorded as
skipped; the sweep goes on. ``results.json`` is replaced atomically after
every finished job, so however the sweep ends (Ctrl-C, SIGTERM, SIGKILL) the
file is valid and holds every job that finished.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgeq.sweep import jobs as job_functions
from edgeq.sweep.executor import Executor, job_resources, open_executor, resolve_executor
from edgeq.sweep.plan import Inputs, Job, load_inputs, plan
from edgeq.sweep.results import FINISHED, ResultStore, finish, open_store
from edgeq.sweep.spec import SweepSpec

POLL_S = 1.0
DEFAULT_SCALE, DEFAULT_OFFSET = 1.0 / 255.0, 0.0


class Scheduler:
    """Feeds the executor with ready jobs and records what comes back (see the module docstring)."""

    def __init__(self, spec: SweepSpec, inputs: Inputs, jobs: list[Job], store: ResultStore, executor: Executor):
        self.spec, self.inputs, self.store, self.executor = spec, inputs, store, executor
        self.jobs = {job.id: job for job in jobs}
        self.pending = [job for job in jobs if store.records[job.id]["status"] not in ("ok", "failed")]
        self.inflight: dict[Any, tuple[Job, float]] = {}
        self._models: dict[str, Any] = {}  # model path -> its payload, put once
        self._tflite: dict[str, tuple[Any, int]] = {}  # conversion id or model path -> (bytes, put once; size)

    @property
    def to_run(self) -> int:
        return len(self.pending)

    def run(self) -> Iterator[dict[str, Any]]:
        """Run every pending job; yields each record as its job finishes (or is skipped)."""
        try:
            while self.pending or self.inflight:
                yield from self._dispatch()
                if not self.inflight:
                    if self.pending:  # nothing runs and nothing can start: a resource no node offers
                        raise RuntimeError(f"no job can start: {self.pending[0].describe()}")
                    continue
                for handle, result in self.executor.wait(list(self.inflight), POLL_S):
                    job, started = self.inflight.pop(handle)
                    yield self._record(job, started, result)
        finally:
            if self.inflight:
                self.executor.cancel(list(self.inflight))

    def _dispatch(self) -> Iterator[dict[str, Any]]:
        waiting = []
        for job in self.pending:
            need = self.store.records[job.needs] if job.needs else None
            if need is not None and need["status"] in ("failed", "skipped"):
                why = f"needs {need['kind']} {need['id']}, which {need['status']}"
                yield self._save(job, finish(self.store.records[job.id], "skipped", None, why))
            elif need is not None and need["status"] != "ok":
                waiting.append(job)
            elif self.executor.fits(job_resources(job.kind, job.target)):
                fn, args = self._call(job)
                handle = self.executor.submit(fn, args, job_resources(job.kind, job.target))
                self.inflight[handle] = (job, time.time())
            else:
                waiting.append(job)
        self.pending = waiting

    def _call(self, job: Job) -> tuple[Any, tuple[Any, ...]]:
        """The job function and its arguments (large ones put in the object store once)."""
        spec = self.spec
        if job.kind == "convert":
            data = None if self.inputs.data is None else self._put("data", self.inputs.data)
            return job_functions.convert_job, (self._model(job), data, job.options)
        tflite, _ = self._candidate(job)
        if job.kind == "evaluate":
            options = job.options or {}
            scale, offset = options.get("scale", DEFAULT_SCALE), options.get("offset", DEFAULT_OFFSET)
            evaluation = self._put("eval", self.inputs.eval)
            return job_functions.evaluate_job, (
                self._model(job),
                tflite,
                evaluation,
                scale,
                offset,
                job.needs is not None,
            )
        name = f"{job.needs}.tflite" if job.needs else job.source.name  # how its errors name the model
        return self.executor.profile_fn, (tflite, job.target, spec.runs, spec.warmup, None, {"model_name": name})

    def _put(self, key: str, value: Any) -> Any:
        if key not in self._models:
            self._models[key] = self.executor.put(value)
        return self._models[key]

    def _model(self, job: Job) -> Any:
        return self._put(f"model:{job.source}", self.inputs.models[job.source])

    def _candidate(self, job: Job) -> tuple[Any, int]:
        """The .tflite a job works on: its conversion's result (kept, or read back from the results folder)."""
        key = job.needs or f"model:{job.source}"
        if key not in self._tflite:
            source = self.inputs.models[job.source]
            data = self.store.model_path(job.needs).read_bytes() if job.needs else source.data
            self._tflite[key] = (self.executor.put(data), len(data))
        return self._tflite[key]

    def _record(self, job: Job, started: float, result: Any) -> dict[str, Any]:
        record = self.store.records[job.id]
        if isinstance(result, BaseException):
            return self._save(job, finish(record, "failed", started, job_functions.one_line(result)))
        if not isinstance(result, dict) or result.get("error"):
            error = result.get("error") if isinstance(result, dict) else f"unexpected result {type(result).__name__}"
            return self._save(job, finish(record, "failed", started, str(error)))
        if job.kind == "convert":
            data = result["tflite"]
            path = self.store.save_model(job.id, data)
            self._tflite[job.id] = (self.executor.put(data), len(data))
            return self._save(job, finish(record, "ok", started, tflite=path, size_bytes=len(data)))
        _, size = self._candidate(job)
        figures = result if job.kind == "evaluate" else job_functions.profile_fields(result)
        where = f"models/{job.needs}.tflite" if job.needs else self.spec.label(job.source)
        return self._save(job, finish(record, "ok", started, tflite=where, size_bytes=size, **figures))

    def _save(self, job: Job, record: dict[str, Any]) -> dict[str, Any]:
        self.store.save()
        return record


def sweep_meta(spec: SweepSpec, executor: str, farm: str | None) -> dict[str, Any]:
    """What results.json says about the sweep besides its records."""
    return {
        "name": spec.name,
        "sweep_file": str(spec.path),
        "models": [spec.label(m) for m in spec.models],
        "convert": list(spec.convert),
        "targets": list(spec.targets),
        "runs": spec.runs,
        "warmup": spec.warmup,
        "executor": executor,
        "farm": farm,
    }


@contextlib.contextmanager
def start_sweep(
    spec: SweepSpec,
    folder: str | Path,
    *,
    executor: str = "auto",
    farm: str | None = None,
    resume: bool = False,
    retry_failed: bool = False,
) -> Iterator[Scheduler]:
    """The scheduler of a sweep into ``folder``, its executor open; iterate ``run()`` to run it.

    Raises UsageError for a non-empty ``folder`` without ``resume`` (before any job runs).
    """
    inputs = load_inputs(spec)
    jobs = plan(spec, inputs)
    kind = resolve_executor(executor, farm)
    meta = sweep_meta(spec, kind, farm)
    store = open_store(Path(folder).absolute(), jobs, meta, resume=resume, retry_failed=retry_failed)
    store.save()
    runnable = any(_runnable(store, job) for job in jobs)
    with open_executor(kind if runnable else "pool", farm, spec.targets) as runner:  # the pool starts nothing idle
        yield Scheduler(spec, inputs, jobs, store, runner)


def _runnable(store: ResultStore, job: Job) -> bool:
    """Whether ``job`` has to run: not finished, and not waiting for a conversion that failed."""
    if store.records[job.id]["status"] in FINISHED:
        return False
    need = store.records[job.needs] if job.needs else None
    return need is None or need["status"] != "failed"
