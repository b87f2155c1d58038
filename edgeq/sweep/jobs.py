"""The sweep's conversion and evaluation jobs, as top-level functions of bytes in and plain dicts out.

Profiles are the farm's own job (:func:`edgeq.farm.jobs.profile_job`), which
holds a board of the target on the host it runs on.

They run in a Ray worker or a spawned process, possibly on another machine, so
they take :class:`~edgeq.sweep.payload.Payload` and ``bytes`` rather than paths
and return dicts of plain values. A user error (any :class:`EdgeqError`) or a
converter crash comes back as ``{"error": "one line"}``: the job failed, not
the machine, so it is not retried. TensorFlow is imported only inside them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from edgeq.convert import convert
from edgeq.errors import EdgeqError
from edgeq.evaluation import evaluate
from edgeq.sweep.payload import Payload, materialize
from edgeq.sweep.spec import convert_options


def one_line(exc: BaseException) -> str:
    """An exception as one line: edgeq's own errors as they are, others with their type."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, EdgeqError) else f"{type(exc).__name__}: {text}"


def convert_job(model: Payload, data: Payload | None, options: dict[str, Any]) -> dict[str, Any]:
    """Convert ``model`` with ``options`` (a checked option set): ``{"tflite": bytes, "size_bytes": ...}``."""
    try:
        with tempfile.TemporaryDirectory(prefix="edgeq-sweep-") as tmp:
            source = materialize(model, tmp)
            calibration = None if data is None else materialize(data, tmp)
            output = Path(tmp) / "model.tflite"
            report = convert(source, calibration, output, convert_options(options))
            return {
                "tflite": output.read_bytes(),
                "size_bytes": report.output_bytes,
                "float_size_bytes": report.float_tflite_bytes,
            }
    except Exception as exc:
        return {"error": one_line(exc)}


def evaluate_job(
    reference: Payload,
    candidate: bytes,
    data: Payload,
    scale: float,
    offset: float,
    has_reference: bool,
) -> dict[str, Any]:
    """Accuracy and agreement of ``candidate`` against the float ``reference``, as ``edgeq evaluate`` reports them.

    ``has_reference`` False: the model was given as a .tflite, so it is its own
    reference and only its accuracy means something.
    """
    try:
        with tempfile.TemporaryDirectory(prefix="edgeq-sweep-") as tmp:
            ref = materialize(reference, tmp)
            cand = Path(tmp) / "candidate.tflite"
            cand.write_bytes(candidate)
            result = evaluate(ref, cand, materialize(data, tmp), scale=scale, offset=offset)
    except Exception as exc:
        return {"error": one_line(exc)}
    return {
        "accuracy": result.candidate_accuracy,
        "reference_accuracy": result.reference_accuracy if has_reference else None,
        "accuracy_drop": result.accuracy_drop_points if has_reference else None,
        "agreement": result.top1_agreement if has_reference else None,
        "eval_samples": result.samples,
    }


def profile_fields(result: dict[str, Any]) -> dict[str, Any]:
    """The figures a sweep keeps of a profile dict (``ProfileResult.to_dict()``)."""
    latency = result.get("latency_ms") or {}
    memory = result.get("memory") or {}
    cycles = result.get("cycles")
    energy = result.get("energy_uj")
    return {
        "latency_ms": {key: latency.get(key) for key in ("p50", "p99", "mean")},
        "latency_kind": result.get("latency_kind"),
        "instructions": result.get("instructions"),
        "cycles": cycles.get("value") if isinstance(cycles, dict) else cycles,
        "ram_bytes": memory.get("ram_bytes"),
        "flash_bytes": memory.get("flash_bytes"),
        "energy_uj": energy.get("value") if isinstance(energy, dict) else energy,
    }
