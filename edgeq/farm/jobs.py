"""The jobs a farm runs on the host Ray picks: ``edgeq run`` and ``edgeq profile`` with a board held.

Each job takes the model's bytes and the inputs with it, holds one device of
its kind on the host it lands on for the whole job (build, flash, run) and
returns plain picklable values: the raw outputs, or the profile's
``to_dict()``, exactly as a local run gives them. A device that fails
(:class:`edgeq.errors.DeviceError`) is marked unhealthy before the error
reaches Ray, which retries the job on another board of the kind
(:func:`edgeq.farm.cluster.remote_call`).

``target`` is a target name (``qemu-m4``, ``host-c``, ``ssh://pi@10.0.0.7``)
or a board id (``nucleo-l4r5zi``: any free board of that id, flashed with
the model's firmware and driven as the ``serial`` target).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeq.errors import DeviceError, UsageError
from edgeq.farm.devices import Device, acquire
from edgeq.farm.flashing import flash_model
from edgeq.farm.health import mark_unhealthy, unhealthy_keys
from edgeq.farm.resources import board_resource, target_resource
from edgeq.targets import PREFIXED, TARGETS

if TYPE_CHECKING:
    from edgeq.profiling import ProfileResult

ENV_FAULT = "EDGEQ_FARM_FAULT_FILE"  # tests: a file whose presence makes the next device on this host fail once


def job_resource(target: str) -> str:
    """The Ray resource one unit of which a job on ``target`` holds (UsageError for an unknown name)."""
    if target in TARGETS or any(target.startswith(p) for p in PREFIXED):
        return target_resource(target)
    from edgeq.boards import list_boards

    if target in {b.id for b in list_boards()}:
        return board_resource(target)
    raise UsageError(
        f"unknown target or board {target!r}; give a target (edgeq run --help) or a board id (edgeq boards)"
    )


def run_job(model: bytes, target: str, inputs: list[np.ndarray], options: dict[str, Any]) -> list[np.ndarray]:
    """Run ``inputs`` through ``model`` on a device of ``target`` on this host; the raw outputs.

    ``options`` are :func:`edgeq.batch_run.run`'s target options (``port``,
    ``baud``, ...), plus ``model_name``: the name error messages give the model.
    """
    from edgeq.batch_run import run

    options = dict(options)
    with _model_file(model, options.pop("model_name", None)) as path, _on_device(model, target, options) as (t, opts):
        return run(path, t, inputs, **opts).outputs


def profile_job(
    model: bytes, target: str, runs: int, warmup: int, inputs: list[np.ndarray] | None, options: dict[str, Any]
) -> dict[str, Any]:
    """Profile ``model`` on a device of ``target`` on this host; the ProfileResult's ``to_dict()``.

    ``options`` are :func:`edgeq.profiling.profile`'s keyword arguments
    (``threads``, ``op_times``, ``deadline_ms``, ``board``, target options),
    plus ``model_name``, reported as the result's ``model``.
    """
    return profile_result_job(model, target, runs, warmup, inputs, options).to_dict()


def profile_result_job(
    model: bytes, target: str, runs: int, warmup: int, inputs: list[np.ndarray] | None, options: dict[str, Any]
) -> ProfileResult:
    """:func:`profile_job` returning the :class:`~edgeq.profiling.ProfileResult` itself (it pickles)."""
    from dataclasses import replace

    from edgeq.profiling import profile

    options = dict(options)
    name = options.pop("model_name", None)
    with _model_file(model, name) as path, _on_device(model, target, options, True) as (t, opts):
        result = profile(path, t, runs=runs, warmup=warmup, inputs=inputs, **opts)
    return replace(result, model=name or result.model)


@contextlib.contextmanager
def _model_file(model: bytes, name: str | None) -> Iterator[Path]:
    """The model's bytes in a temporary file named like the original (messages name it so)."""
    with tempfile.TemporaryDirectory(prefix="edgeq-job-") as tmp:
        path = Path(tmp) / Path(name or "model.tflite").name
        path.write_bytes(model)
        yield path


@contextlib.contextmanager
def _on_device(
    model: bytes, target: str, options: dict[str, Any], profiling: bool = False
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Hold a device of ``target`` on this host; yields the local target name and its options.

    A DeviceError inside marks the device unhealthy and propagates (Ray retries the job elsewhere).
    """
    resource = job_resource(target)
    node_id = _node_id()
    with acquire(resource, unhealthy_keys(node_id) if node_id else set()) as device:
        if device is None:
            if resource.startswith(board_resource("")):
                raise UsageError(f"{target} is a board id; a run on one needs a farm agent that has the board")
            yield target, options
            return
        try:
            _inject_fault(device)
            yield _local_target(model, device, options, profiling)
        except DeviceError as exc:
            if node_id:
                mark_unhealthy(device, str(exc))
            raise


def _local_target(model: bytes, device: Device, options: dict[str, Any], profiling: bool) -> tuple[str, dict[str, Any]]:
    """What runs on ``device``: a flashed serial board on its port, an SSH board, or the target itself."""
    opts = dict(options)
    if device.target == "serial":
        flash_model(model, device)
        opts["port"] = device.port
        if profiling:  # the board's power figure gives an estimated energy
            opts["board"] = opts.get("board") or device.board
        return "serial", opts
    return device.target, opts


def _inject_fault(device: Device) -> None:
    """Fail like a board that stopped answering, once, when the file named by $EDGEQ_FARM_FAULT_FILE exists."""
    path = os.environ.get(ENV_FAULT)
    if not path:
        return
    try:
        os.remove(path)
    except FileNotFoundError:
        return
    raise DeviceError(f"{device.where} stopped answering (fault injected through ${ENV_FAULT})")


def _node_id() -> str | None:
    """This Ray node's id inside a Ray job, else None."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return None
    node_id: str = ray.get_runtime_context().get_node_id()
    return node_id


__all__ = ["job_resource", "profile_job", "profile_result_job", "run_job"]
