"""The 32-bit TFLM arena model against the host interpreter's own record of its allocations.

The model subtracts from the host measurement what 32-bit pointers save on
structures TFLM allocates for every model. These tests check, with the real
tflite-micro interpreter, that those structures are in the host's tail with
exactly the 64-bit sizes the model assumes, for every op fixture and zoo model,
so the subtraction can never take away more than the host really spent. The
32-bit side is proven against real Cortex-M4 builds by scripts/bench_arena.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edgeq.codegen.arena import measure_arena, runs_with
from edgeq.codegen.arena32 import (
    AFFINE_QUANTIZATION,
    EVAL_TENSOR,
    HOST_ALLOCATOR_OBJECTS,
    IO_TENSOR,
    NODE_AND_REGISTRATION,
    cmsis_scratch,
    pointer_savings,
    target_arena,
)
from edgeq.model import read_model
from tests.conftest import FIXTURES

pytest.importorskip("tflite_micro")

MODELS = sorted((FIXTURES / "ops").glob("*.tflite")) + sorted((FIXTURES / "zoo").glob("*/int8.tflite"))
MODELS += sorted((FIXTURES / "tflite").glob("*int8.tflite"))

# One child process records every model's allocations (the interpreter prints them on stdout).
RECORDER = """
import ctypes, json, sys
from tflite_micro.python.tflite_micro import runtime
libc = ctypes.CDLL(None)
for path in sys.argv[1:]:
    try:
        interpreter = runtime.Interpreter.from_bytes(open(path, "rb").read(), arena_size=8 << 20)
    except Exception as exc:
        print("MODEL " + json.dumps([path, str(exc)]), flush=True)
        continue
    print("MODEL " + json.dumps([path, None]), flush=True)
    interpreter.print_allocations()
    libc.fflush(None)
"""
USED = re.compile(r"'([^']+)' used (\d+) bytes .*requested (\d+) bytes for (\d+)")
TAIL = re.compile(r"Arena allocation tail (\d+) bytes")


@pytest.fixture(scope="module")
def records() -> dict[Path, dict[str, tuple[int, int]]]:
    """{model: {allocation kind: (bytes used, count)}} as the host interpreter's recording allocator reports."""
    done = subprocess.run(
        [sys.executable, "-c", RECORDER, *map(str, MODELS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    found: dict[Path, dict[str, tuple[int, int]]] = {}
    current: dict[str, tuple[int, int]] | None = None
    for line in done.stdout.splitlines():
        if line.startswith("MODEL "):
            path, error = json.loads(line[6:])
            current = None if error else found.setdefault(Path(path), {})
        elif current is not None and (m := USED.search(line)):
            current[m.group(1)] = (int(m.group(2)), int(m.group(4)))
        elif current is not None and (m := TAIL.search(line)):
            current["tail"] = (int(m.group(1)), 1)
    return found


def _io(graph):
    return [*graph.inputs, *graph.outputs]


def test_every_model_was_recorded(records):
    """Fixtures TFLM refuses (they exist to test refusals) are left out; the others are all recorded."""
    assert len(records) > 100
    assert all("TfLiteEvalTensor data" in kinds and "tail" in kinds for kinds in records.values())


def test_host_tail_holds_the_structures_the_model_shrinks(records):
    """Eval tensors, nodes and the I/O tensors are in the host's tail with the 64-bit sizes the model uses."""
    checked = 0
    for model, kinds in records.items():
        graph = read_model(model)
        if graph.subgraph_count > 1:  # TFLM counts every subgraph; the model only the main one (saves less)
            checked += 1
            continue
        assert kinds["TfLiteEvalTensor data"] == (EVAL_TENSOR[0] * len(graph.tensors), len(graph.tensors)), model
        nodes = len(graph.operators)
        assert kinds["NodeAndRegistration struct"] == (NODE_AND_REGISTRATION[0] * nodes, nodes), model
        io = _io(graph)
        assert kinds["Persistent TfLiteTensor data"] == (IO_TENSOR[0] * len(io), len(io)), model
        quantized = sum(graph.tensors[i].quantization is not None for i in io)
        if quantized:
            used, count = kinds["Persistent TfLiteTensor quantization data"]
            assert count == 2 * quantized and used >= AFFINE_QUANTIZATION[0] * quantized, model
        checked += 1
    assert checked == len(records)


def test_host_tail_has_room_for_the_allocators_own_objects(records):
    """What the recording does not itemize (the allocator's objects among it) is at least their host size."""
    for model, kinds in records.items():
        itemized = sum(used for kind, (used, _) in kinds.items() if kind != "tail")
        assert kinds["tail"][0] - itemized >= HOST_ALLOCATOR_OBJECTS, model


def test_savings_never_exceed_what_the_host_spent_on_those_structures(records):
    for model, kinds in records.items():
        graph = read_model(model)
        spent = sum(kinds[k][0] for k in ("TfLiteEvalTensor data", "NodeAndRegistration struct"))
        spent += (
            kinds["Persistent TfLiteTensor data"][0] + kinds.get("Persistent TfLiteTensor quantization data", (0,))[0]
        )
        spent += 8 * len(_io(graph))  # the interpreter's arrays of input and output tensor pointers
        spent += HOST_ALLOCATOR_OBJECTS
        saved = pointer_savings(graph)
        assert 0 < saved <= spent // 2 + 16, model  # a 32-bit record is at least half its 64-bit size


@pytest.mark.parametrize("name", ["kws_dscnn", "ic_resnet8", "vww_mobilenet", "ad_autoencoder"])
def test_target_figures_are_ordered(name):
    """Reference kernels need less than the 64-bit host; CMSIS-NN adds its scratch; 16-byte multiples."""
    graph = read_model(FIXTURES / "zoo" / name / "int8.tflite")
    host = 50_000
    target = target_arena(graph, host)
    assert target.reference_bytes < host
    assert target.cmsis_nn_bytes >= target.reference_bytes + target.cmsis_scratch_bytes
    assert target.bytes == target.cmsis_nn_bytes
    assert all(v % 16 == 0 for v in (target.reference_bytes, target.cmsis_nn_bytes, target.cmsis_scratch_bytes))


def test_cmsis_scratch_follows_the_kernels_shapes():
    """Only ops with CMSIS-NN scratch buffers count: an FC-only per-channel model asks for none."""
    assert cmsis_scratch(read_model(FIXTURES / "zoo" / "ad_autoencoder" / "int8.tflite")) == 0
    kws = read_model(FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite")
    conv = next(op for op in kws.operators if op.builtin == "CONV_2D")
    filt = kws.tensors[conv.inputs[1]].shape  # (out, h, w, in): im2col holds two int16 columns of h*w*in
    assert cmsis_scratch(kws) >= 2 * filt[1] * filt[2] * filt[3] * 2


def test_measurement_reports_every_figure_behind_the_constant():
    """The host figure is measured (the minimum that runs); the written constant follows from the model."""
    model = FIXTURES / "tflite" / "conv_int8.tflite"
    arena = measure_arena(model.read_bytes())
    assert runs_with(model, arena.host_bytes) and not runs_with(model, arena.host_bytes - 16)
    assert arena.target == target_arena(read_model(model), arena.host_bytes)
    assert arena.arena_bytes == arena.measured_bytes + arena.margin_bytes > arena.measured_bytes == arena.target.bytes
    assert arena.host_arena_bytes > arena.host_bytes > arena.target.reference_bytes
    figures = arena.to_dict()
    assert figures["arena_host_bytes"] == arena.host_bytes and figures["arena_method"] == "modeled"
    assert figures["arena_cmsis_nn_bytes"] == arena.target.cmsis_nn_bytes
    assert str(arena.target.pointer_savings) in arena.how and str(arena.host_bytes) in arena.how
