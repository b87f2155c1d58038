"""The TFLM arena of a 32-bit target, modeled from the 64-bit host measurement.

TFLM splits its arena into a head (tensors and kernel scratch buffers, planned
over their lifetimes) and a tail (persistent structures). The head is the same
on every build with the same kernels; the tail holds structures with pointers,
which are half as wide on a 32-bit microcontroller. This module takes the
smallest arena the host interpreter (reference kernels, 64-bit) needed and
adjusts it for the target:

- minus what the 32-bit layout provably saves on structures every build
  allocates before any kernel runs: the allocator's own objects (the host's
  recording allocator, arena and planner: 424 bytes; the target's plain ones:
  116), one ``TfLiteEvalTensor`` per tensor (24 bytes -> 12), one
  node-and-registration record per operator (64 -> 32), the ``TfLiteTensor``
  the interpreter keeps for each model input and output (64 -> 40; 32 with
  arm-none-eabi-gcc's short enums) with its quantization record (24 -> 12) and
  pointer (8 -> 4). Each 32-bit figure is rounded up to 16 bytes, so alignment
  padding on the target can never eat the saving;
- plus the scratch buffers CMSIS-NN's kernels request on a Cortex-M with the
  DSP extension (M4, M7, M33) that the reference kernels do not: convolution
  im2col, depthwise convolution, average pooling sums and the per-channel
  multipliers of per-tensor fully-connected layers. Scratch buffers live only
  while their operator runs, so the largest one is added;
- plus a per-operator allowance for CMSIS-NN's slightly larger kernel data.

Everything else in the tail (kernel op data, the allocator's own objects) is
smaller or equal on the target and is left at its host size, so the model errs
on the large side. ``scripts/bench_arena.py`` checks it against real TFLM
builds for the Cortex-M4 in QEMU (see docs/benchmarks-arena.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeq.model import Graph
from edgeq.model.graph import Operator

ALIGN = 16
# bytes of one record on a 64-bit host and on a 32-bit target
EVAL_TENSOR = (24, 12)  # TfLiteEvalTensor: data and dims pointers, type
NODE_AND_REGISTRATION = (64, 32)  # TfLiteNode (six pointers and an int) + registration pointer
IO_TENSOR = (64, 40)  # TfLiteTensor (static-memory layout) kept for each input and output
AFFINE_QUANTIZATION = (24, 12)  # scale and zero-point pointers + quantized dimension
POINTER = (8, 4)
# The allocator's own objects at the top of the tail: the host interpreter's recording allocator, its
# recording arena and the greedy planner (104 + 248 + 72 bytes), against a plain allocator, arena and
# planner on the target (36 + 36 + 44, each rounded up to 16 below).
HOST_ALLOCATOR_OBJECTS = 104 + 248 + 72
TARGET_ALLOCATOR_OBJECTS = (36, 36, 44)
# CMSIS-NN keeps a few more fields per operator than the reference kernels (buffer indices, sizes).
CMSIS_OP_DATA_ALLOWANCE = 16


def _up(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


@dataclass(frozen=True)
class TargetArena:
    """The arena a 32-bit Cortex-M build of TFLM needs, modeled from the host's measurement."""

    host_bytes: int
    pointer_savings: int
    cmsis_scratch_bytes: int
    cmsis_op_data_bytes: int

    @property
    def reference_bytes(self) -> int:
        """TFLM with its reference kernels on a 32-bit target."""
        return _up(self.host_bytes - self.pointer_savings)

    @property
    def cmsis_nn_bytes(self) -> int:
        """TFLM with CMSIS-NN kernels on a Cortex-M with the DSP extension."""
        return _up(self.reference_bytes + self.cmsis_scratch_bytes + self.cmsis_op_data_bytes)

    @property
    def bytes(self) -> int:
        """What either kernel library needs: the larger of the two."""
        return max(self.reference_bytes, self.cmsis_nn_bytes)


def pointer_savings(graph: Graph) -> int:
    """Bytes the 32-bit layout saves on the structures every TFLM build allocates first."""
    tensors, ops = len(graph.tensors), len(graph.operators)
    saved = HOST_ALLOCATOR_OBJECTS - sum(_up(n) for n in TARGET_ALLOCATOR_OBJECTS)
    saved += EVAL_TENSOR[0] * tensors - _up(EVAL_TENSOR[1] * tensors)
    saved += NODE_AND_REGISTRATION[0] * ops - _up(NODE_AND_REGISTRATION[1] * ops)
    for group in (graph.inputs, graph.outputs):
        saved += POINTER[0] * len(group) - _up(POINTER[1] * len(group))
        for index in group:
            saved += IO_TENSOR[0] - _up(IO_TENSOR[1])
            if graph.tensors[index].quantization is not None:
                saved += AFFINE_QUANTIZATION[0] - _up(AFFINE_QUANTIZATION[1])
    return max(saved, 0)


def _shape(graph: Graph, index: int) -> tuple[int, ...]:
    return graph.tensors[index].shape if 0 <= index < len(graph.tensors) else ()


def _conv_scratch(graph: Graph, op: Operator) -> int:
    """im2col of CMSIS-NN's int8 convolution (DSP): two columns of int16, rounded to 4 (1x1 kernels need none)."""
    filt = _shape(graph, op.inputs[1])
    if len(filt) != 4 or filt[1] * filt[2] == 1:
        return 0
    cols = filt[1] * filt[2] * filt[3]
    return 2 * (-(-cols // 4) * 4) * 2


def _depthwise_scratch(graph: Graph, op: Operator) -> int:
    """CMSIS-NN's optimized depthwise kernel: one int16 column per channel, except 3x3 kernels."""
    src, filt = _shape(graph, op.inputs[0]), _shape(graph, op.inputs[1])
    if len(src) != 4 or len(filt) != 4 or src[3] != filt[3]:
        return 0
    if op.options.get("dilation_w", 1) != 1 or op.options.get("dilation_h", 1) != 1:
        return 0
    if filt[1] == 3 and filt[2] == 3:
        return 0
    return src[3] * filt[1] * filt[2] * 2


def _fc_scratch(graph: Graph, op: Operator) -> int:
    """Per-tensor FC layers with an output of rank 3+ run as a 1x1 convolution that borrows
    per-channel multipliers and shifts (int32 each)."""
    filt = graph.tensors[op.inputs[1]] if 0 <= op.inputs[1] < len(graph.tensors) else None
    if filt is None or len(filt.shape) != 2 or filt.shape[1] % 4 or len(_shape(graph, op.outputs[0])) <= 2:
        return 0
    if filt.quantization is not None and filt.quantization.per_channel:
        return 0
    return filt.shape[0] * 4 * 2


def _avgpool_scratch(graph: Graph, op: Operator) -> int:
    """CMSIS-NN's int8 average pooling keeps one int32 sum per channel."""
    src = _shape(graph, op.inputs[0])
    return src[-1] * 4 if src else 0


SCRATCH = {
    "CONV_2D": _conv_scratch,
    "DEPTHWISE_CONV_2D": _depthwise_scratch,
    "FULLY_CONNECTED": _fc_scratch,
    "AVERAGE_POOL_2D": _avgpool_scratch,
}


def cmsis_scratch(graph: Graph) -> int:
    """The largest scratch buffer CMSIS-NN requests for one of the model's int8 operators (16-byte aligned)."""
    sizes = [0]
    for op in graph.operators:
        rule = SCRATCH.get(op.builtin)
        if rule is not None and op.inputs and graph.tensors[op.inputs[0]].dtype == "int8":
            sizes.append(_up(rule(graph, op)))
    return max(sizes)


def target_arena(graph: Graph, host_bytes: int) -> TargetArena:
    """Model the 32-bit arena of ``graph`` from the smallest arena the 64-bit host needed."""
    return TargetArena(
        host_bytes=host_bytes,
        pointer_savings=pointer_savings(graph),
        cmsis_scratch_bytes=cmsis_scratch(graph),
        cmsis_op_data_bytes=CMSIS_OP_DATA_ALLOWANCE * len(graph.operators),
    )
