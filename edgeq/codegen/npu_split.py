"""Models compiled by Arm's Vela: their ``ethos-u`` ops, the accelerator they target, their CPU part.

Vela replaces each group of ops the Ethos-U runs by one custom op, ``ethos-u``, whose inputs are
the command stream (a constant), the weights (``read_only``), the scratch and fast-scratch tensors
and the group's inputs; ops it cannot place stay ordinary TFLite ops that TFLM runs on the CPU.

Which accelerator a model was compiled for is written in each command stream: it starts with the
driver payload header Vela writes (the fourcc ``COP1``, then a Config action whose second word is
the NPU's CONFIG register as Vela expects it: log2 of the MACs per cycle in bits 0-3, the product in
bits 28-31: 0 Ethos-U55, 1 Ethos-U65, 2 Ethos-U85). Arm's core driver compares the same word with
the hardware before it runs a stream. The custom op's options hold no accelerator (a one-int
flexbuffer) and Vela's metadata entries (``OfflineMemoryAllocation``, ``CONVERSION_METADATA``,
``min_runtime_version``) do not either. Vela does not record its system configuration or memory
mode anywhere in the file, so those cannot be checked.

The CPU part (``cpu_part``) is the model made of the ops Vela left on the CPU: tensors an
``ethos-u`` op produces, and the model inputs those ops read, become its inputs; tensors they
produce that an ``ethos-u`` op reads, and model outputs, become its outputs. It runs on any runtime
(edgeq's compiled engine, TFLM, LiteRT), so the CPU ops of a mixed model can be tested on the host.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from edgeq.errors import DependencyError, UnsupportedError, UsageError
from edgeq.model import Graph, read_model
from edgeq.model.graph import Operator

ETHOS_U = "ethos-u"
OFFLINE_PLAN = "OfflineMemoryAllocation"
_FOURCC = b"COP1"
_CONFIG_ACTION = 0x01
_PRODUCTS = {0: "ethos-u55", 1: "ethos-u65", 2: "ethos-u85"}


def ethos_u_ops(graph: Graph) -> tuple[Operator, ...]:
    """The model's ``ethos-u`` custom ops (the groups Vela placed on the NPU), in order."""
    return tuple(op for op in graph.operators if op.builtin == "CUSTOM" and op.custom_code == ETHOS_U)


def cpu_ops(graph: Graph) -> tuple[Operator, ...]:
    """The ops Vela left on the CPU, in order."""
    return tuple(op for op in graph.operators if not (op.builtin == "CUSTOM" and op.custom_code == ETHOS_U))


def stream_accelerator(stream: bytes) -> str | None:
    """The accelerator (``ethos-u55-128``) a command stream was compiled for; None when it has no Config action."""
    if len(stream) < 16 or stream[:4] != _FOURCC:
        return None
    words = struct.unpack_from(f"<{min(len(stream) // 4, 16)}I", stream)
    for n, tag in enumerate(words[1:-1], start=1):
        if tag & 0xFF == _CONFIG_ACTION:
            config = words[n + 1]
            product = _PRODUCTS.get(config >> 28)
            return None if product is None else f"{product}-{1 << (config & 0xF)}"
    return None


def compiled_for(graph: Graph) -> str | None:
    """The accelerator every ``ethos-u`` op of ``graph`` was compiled for, None when it cannot be read.

    Raises:
        UsageError: The command streams disagree (a model put together from several compilations).
    """
    found = set()
    for op in ethos_u_ops(graph):
        stream = graph.tensors[op.inputs[0]].data if op.inputs and op.inputs[0] >= 0 else None
        found.add(stream_accelerator(stream or b""))
    if len(found) > 1:
        names = ", ".join(sorted(str(a) for a in found))
        raise UsageError(
            f"{graph.name}: its ethos-u ops were compiled for different accelerators ({names}); compile it again"
        )
    return found.pop() if found else None


def offline_plan_bytes(model: bytes) -> int | None:
    """The bytes of Vela's offline tensor plan (``OfflineMemoryAllocation``): the end of its furthest tensor.

    None when the model has no such metadata. TFLM places the planned tensors at these offsets in its arena.
    """
    fbs = _schema()
    obj = fbs.ModelT.InitFromPackedBuf(model, 0)
    entry = next((m for m in obj.metadata or [] if _text(m.name) == OFFLINE_PLAN), None)
    if entry is None or obj.buffers[entry.buffer].data is None:
        return None
    raw = bytes(obj.buffers[entry.buffer].data)
    try:  # version, subgraph count, tensor count, then one offset per tensor (-1: not planned)
        count = struct.unpack_from("<I", raw, 8)[0]
        offsets = struct.unpack_from(f"<{count}i", raw, 12)
    except struct.error:
        return None
    tensors = read_model(model).tensors
    ends = [off + tensors[n].nbytes for n, off in enumerate(offsets) if off >= 0 and n < len(tensors)]
    return max(ends, default=0)


@dataclass(frozen=True)
class CpuPart:
    """The ops Vela left on the CPU as a model of their own.

    Attributes:
        model: The .tflite bytes of the CPU part.
        ops: Its ops (builtin names), in order.
        inputs: Names of its input tensors (outputs of ``ethos-u`` ops, or model inputs).
        outputs: Names of its output tensors (inputs of ``ethos-u`` ops, or model outputs).
    """

    model: bytes
    ops: tuple[str, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ops": list(self.ops),
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "bytes": len(self.model),
        }


def cpu_part(model: bytes) -> CpuPart:
    """The CPU part of a Vela-compiled model (``model``: .tflite bytes).

    Raises:
        UsageError: The model has no ``ethos-u`` op (not compiled by Vela), or Vela placed every op on the NPU.
        UnsupportedError: A model with more than one subgraph.
    """
    graph = read_model(model)
    if not ethos_u_ops(graph):
        raise UsageError(f"{graph.name} has no ethos-u op; compile it first: edgeq compile MODEL --npu ACCELERATOR")
    kept = cpu_ops(graph)
    if not kept:
        raise UsageError(f"{graph.name}: Vela placed every op on the NPU, so there is no CPU part")
    produced = {t for op in kept for t in op.outputs}
    read = {t for op in kept for t in op.inputs if t >= 0}
    npu_reads = {t for op in ethos_u_ops(graph) for t in op.inputs}
    inputs = [t for t in dict.fromkeys(i for op in kept for i in op.inputs) if t >= 0 and t not in produced]
    inputs = [t for t in inputs if not graph.tensors[t].is_constant]
    outputs = [t for t in dict.fromkeys(produced) if t in npu_reads or t in graph.outputs or t not in read]
    data = _rebuild(model, [op.index for op in kept], inputs, outputs)
    names = [tuple(graph.tensors[t].name for t in ts) for ts in (inputs, outputs)]
    return CpuPart(data, tuple(op.name for op in kept), *names)


def _rebuild(model: bytes, keep_ops: list[int], inputs: list[int], outputs: list[int]) -> bytes:
    """``model`` with only the operators ``keep_ops``, its tensors, buffers and op codes renumbered."""
    import flatbuffers  # type: ignore[import-untyped]

    fbs = _schema()
    obj = fbs.ModelT.InitFromPackedBuf(model, 0)
    if len(obj.subgraphs) != 1:
        raise UnsupportedError("the CPU part of a model with more than one subgraph is not supported")
    sub = obj.subgraphs[0]
    ops = [sub.operators[n] for n in keep_ops]
    used = sorted({t for op in ops for t in [*op.inputs, *op.outputs] if t >= 0} | set(inputs) | set(outputs))
    tensor_map = {old: new for new, old in enumerate(used)}
    buffers = [obj.buffers[0]]
    for t in (sub.tensors[n] for n in used):
        if t.buffer and obj.buffers[t.buffer].data is not None:
            buffers.append(obj.buffers[t.buffer])
            t.buffer = len(buffers) - 1
        else:
            t.buffer = 0
    codes = sorted({op.opcodeIndex for op in ops})
    for op in ops:
        op.inputs = [tensor_map[t] if t >= 0 else -1 for t in op.inputs]
        op.outputs = [tensor_map[t] for t in op.outputs]
        op.opcodeIndex = codes.index(op.opcodeIndex)
    sub.tensors, sub.operators = [sub.tensors[n] for n in used], ops
    sub.inputs, sub.outputs = [tensor_map[t] for t in inputs], [tensor_map[t] for t in outputs]
    obj.operatorCodes = [obj.operatorCodes[n] for n in codes]
    obj.buffers, obj.metadata, obj.signatureDefs = buffers, None, None
    builder = flatbuffers.Builder(1024)
    builder.Finish(obj.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _schema() -> Any:
    """LiteRT's generated flatbuffer object API (imported when needed: LiteRT is large)."""
    try:
        from ai_edge_litert import schema_py_generated  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - LiteRT is a dependency on Linux and macOS
        raise DependencyError("reading a Vela model's layout needs LiteRT: pip install ai-edge-litert") from exc
    return schema_py_generated
