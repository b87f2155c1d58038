"""The jobs of a sweep: one conversion per model x option set, one evaluation and one profile per target of each result.

A job's id is a hash of everything its result depends on: its kind, the
model's path and content, the option set, the target, and, for the job kinds
that read them, the data's content and the number of timed runs. The same
sweep file on the same files gives the same ids on any machine, so
``--resume`` recognises finished jobs, and a changed input is a new job.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeq.sweep.payload import Payload, pack
from edgeq.sweep.spec import SweepSpec

KINDS = ("convert", "evaluate", "profile")


@dataclass(frozen=True)
class Job:
    """One job: ``needs`` is the id of the conversion it waits for (None for a .tflite given as is)."""

    id: str
    kind: str
    model: str
    options: dict[str, Any] | None
    target: str | None = None
    needs: str | None = None
    source: Path = field(default=Path(), compare=False)

    def describe(self) -> str:
        opts = "as given" if self.options is None else (_options_text(self.options) or "defaults")
        where = f" on {self.target}" if self.target else ""
        return f"{self.kind} {self.model} ({opts}){where}"


def _options_text(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items())


@dataclass(frozen=True)
class Inputs:
    """The contents the jobs read, packed once: models by absolute path, calibration and evaluation data."""

    models: dict[Path, Payload]
    data: Payload | None
    eval: Payload | None


def load_inputs(spec: SweepSpec) -> Inputs:
    models = {m: pack(m) for m in spec.models}
    data = None if spec.data is None else pack(spec.data)
    evaluation = None if spec.eval is None else pack(spec.eval)
    return Inputs(models, data, evaluation)


def job_id(kind: str, model: str, model_digest: str, options: Any, target: str | None, extra: Any) -> str:
    """The stable id of a job (16 hex digits of a SHA-256 over canonical JSON)."""
    key = {"kind": kind, "model": model, "content": model_digest, "options": options, "target": target, "extra": extra}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def plan(spec: SweepSpec, inputs: Inputs) -> list[Job]:
    """Every job of the sweep, each conversion before the jobs that need it."""
    jobs: list[Job] = []
    data_digest = None if inputs.data is None else inputs.data.digest
    eval_digest = None if inputs.eval is None else inputs.eval.digest
    for model in spec.models:
        label, digest = spec.label(model), inputs.models[model].digest
        is_tflite = model.suffix.lower() == ".tflite"
        option_sets: list[dict[str, Any] | None] = [None] if is_tflite else list(spec.convert)
        for options in option_sets:
            needs = None
            if options is not None:
                needs = job_id("convert", label, digest, options, None, data_digest)
                jobs.append(Job(needs, "convert", label, options, None, None, model))
            if inputs.eval is not None:
                eid = job_id("evaluate", label, digest, options, None, [data_digest, eval_digest])
                jobs.append(Job(eid, "evaluate", label, options, None, needs, model))
            for target in spec.targets:
                pid = job_id("profile", label, digest, options, target, [data_digest, spec.runs, spec.warmup])
                jobs.append(Job(pid, "profile", label, options, target, needs, model))
    return jobs
