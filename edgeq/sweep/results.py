"""RESULTS_DIR/results.json: one record per job, replaced atomically after every finished job.

A record has the same keys whatever its kind (figures a kind does not
produce are null), so tools can read the file without knowing the kinds.
Statuses: ``pending`` (not run yet), ``ok``, ``failed`` (``error`` says why,
in one line) and ``skipped`` (a job it needs failed; ``error`` names it).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from edgeq.errors import UsageError
from edgeq.outputs import atomic_write
from edgeq.sweep.plan import Job

FORMAT = 1
RESULTS = "results.json"
MODELS = "models"
FIGURES = (
    "size_bytes",
    "accuracy",
    "reference_accuracy",
    "accuracy_drop",
    "agreement",
    "latency_ms",
    "latency_kind",
    "instructions",
    "cycles",
    "ram_bytes",
    "flash_bytes",
    "energy_uj",
)
FINISHED = ("ok", "failed")


def new_record(job: Job) -> dict[str, Any]:
    """The pending record of ``job``."""
    record: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "model": job.model,
        "options": job.options,
        "target": job.target,
        "needs": job.needs,
        "status": "pending",
        "error": None,
        "started": None,
        "finished": None,
        "seconds": None,
        "tflite": None,
    }
    record.update(dict.fromkeys(FIGURES))
    return record


def finish(record: dict[str, Any], status: str, started: float | None, error: str | None = None, **figures: Any):
    """Mark ``record`` finished (timestamps in seconds since the epoch) with its figures."""
    now = time.time()
    record.update(status=status, error=error, finished=now, started=started if started is not None else now)
    record["seconds"] = round(now - record["started"], 3)
    record.update({k: v for k, v in figures.items() if k in record})
    return record


class ResultStore:
    """The records of a sweep and the folder they live in (``results.json``, ``models/ID.tflite``)."""

    def __init__(self, folder: Path, meta: dict[str, Any], records: dict[str, dict[str, Any]]):
        self.folder, self.meta, self.records = folder, meta, records

    @property
    def path(self) -> Path:
        return self.folder / RESULTS

    def model_path(self, job_id: str) -> Path:
        return self.folder / MODELS / f"{job_id}.tflite"

    def save(self) -> None:
        doc = {"format": FORMAT, **self.meta, "updated": time.time(), "records": list(self.records.values())}
        atomic_write(self.path, (json.dumps(doc, indent=1) + "\n").encode())

    def save_model(self, job_id: str, data: bytes) -> str:
        """Store a converted model; returns its path relative to the results folder."""
        atomic_write(self.model_path(job_id), data)
        return f"{MODELS}/{job_id}.tflite"


def open_store(folder: Path, jobs: list[Job], meta: dict[str, Any], *, resume: bool, retry_failed: bool) -> ResultStore:
    """The store for this run: fresh, or the finished records of an earlier run (``resume``).

    Without ``resume`` the folder must be empty or absent. With it, an ``ok``
    record is kept (and its model file must still be there); a ``failed`` one
    is kept unless ``retry_failed``; anything else runs again.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if not resume and any(folder.iterdir()):
        raise UsageError(f"{folder} is not empty; give --resume to continue the sweep there, or an empty folder")
    earlier = _read(folder / RESULTS) if resume else {}
    records: dict[str, dict[str, Any]] = {}
    for job in jobs:
        old = earlier.get(job.id)
        keep = old is not None and old.get("status") in FINISHED
        if keep and old is not None and old["status"] == "failed" and retry_failed:
            keep = False
        if keep and old is not None and job.kind == "convert" and old["status"] == "ok":
            keep = (folder / MODELS / f"{job.id}.tflite").is_file()
        records[job.id] = old if keep and old is not None else new_record(job)
    return ResultStore(folder, meta, records)


def _read(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text())
        return {r["id"]: r for r in doc["records"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"cannot resume from {path}: not a sweep results file ({exc})") from None


def load_results(folder: str | Path) -> dict[str, Any]:
    """The results document of a sweep folder (UsageError when it has none)."""
    path = Path(folder) / RESULTS
    try:
        doc: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    return doc
