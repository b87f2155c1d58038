"""int4 weights in the engine: which ops take them, how they are stored in flash and unpacked into RAM.

TFLite's INT4 tensors (schema type 17) hold two values a byte, value ``2i`` in the low nibble of
byte ``i`` and value ``2i + 1`` in its high nibble, each sign extended from 4 bits (tflite-micro,
tensorflow/lite/kernels/internal/portable_tensor_utils.cc, ``UnpackDenseInt4IntoInt8``;
``edgeq.model.graph.unpack_int4`` reads them so). CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED
with int8 activations take them (the AI Edge Quantizer's symmetric per-channel int4 weights).

The engine keeps them packed in flash, but in its own kernels' layout (engine.layouts) and its own
nibble order: the generator rearranges the unpacked values as for int8 weights, padding and the zero
tail the kernels read past the end included, pads the sequence with zeros to a multiple of 8 and
packs every 8 values into one little-endian 32-bit word, values 0 to 3 in the low nibbles of its
bytes 0 to 3 and values 4 to 7 in their high nibbles (:func:`pack_words`). One mask and one shift
then give four values a byte in order, sign extended four at a time (SSUB8 on SIMD32 cores): about
1.6 Cortex-M4 instructions a value, call included, half of what TFLite's order costs.

Before its kernel runs, an int4 op unpacks the whole sequence (``eq_unpack_s4_s8``, or
``eq_unpack_s4_s16`` for the int16 depthwise layout, edgeq_int4.c) into the first part of its
scratch region, which the planner holds alive during that op only, like the kernels' columns (the
rest of the region). So the int8 kernels run unchanged on RAM copies of their weights, the unpacked
bytes count in the arena and in ``--ram-budget``, and models without int4 weights run exactly as
before. TFLM's int4 CONV_2D and DEPTHWISE_CONV_2D do the same: a scratch buffer of the whole
unpacked filter. FULLY_CONNECTED weights are packed row by row, each row padded to whole words: its
smallest kernel variant (``rows``, edgeq_fc_int4.c) unpacks two rows at a time into a scratch of
two rows instead.

The per-output-channel parameters of an int4 op are compact in flash too: an int32 bias, an int32
multiplier and an int8 shift a channel (9 bytes, three arrays) instead of the 16-byte ``eq_channel``
rows of int8 ops. The same prelude expands them (``eq_expand_channels``, edgeq_int4.c) into full rows
in the op's scratch region, after the unpacked weights, deriving each rounding constant from its
shift as engine.requant_table does; the kernels read those RAM rows as they read the flash rows of
int8 ops. The ``rows`` variant expands two channels at a time, with the two rows of weights it unpacks.
"""

from __future__ import annotations

import numpy as np

from edgeq.codegen.engine.layouts import WEIGHT_TAIL, conv_weights, depthwise_weights, row_taps
from edgeq.codegen.engine.requant_table import ChannelTable, rounding
from edgeq.model import Graph, Operator

INT4_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
UNPACK_SOURCE = "edgeq_int4.c"
ALIGN = 16  # the kernel's own scratch starts 16-byte aligned after the unpacked weights
GROUP = 8  # values per packed word
CHANNEL_ROW = 16  # sizeof(eq_channel): int32 bias, mult, shift, round
COMPACT_ROW = 9  # flash bytes a channel of an int4 op: int32 bias and mult, int8 shift
EXPAND = "eq_expand_channels"


def _conv(op) -> Operator:
    """The CONV_2D of a fused CONV_2D+ADD, or ``op`` itself."""
    return op.conv if hasattr(op, "conv") else op


def has_int4_weights(graph: Graph, op) -> bool:
    """True when ``op`` (or the CONV_2D of a fused CONV_2D+ADD) reads int4 weights."""
    conv = _conv(op)
    return conv.builtin in INT4_OPS and len(conv.inputs) > 1 and graph.tensors[conv.inputs[1]].dtype == "int4"


def unpacked_values(graph: Graph, op) -> tuple[int, int]:
    """(values, bytes per value) of the unpacked weights in the kernel's layout, the zero tail included.

    CONV_2D and DEPTHWISE_CONV_2D unpack whole packed words (a multiple of GROUP values); FULLY_CONNECTED
    unpacks row by row (``eq_unpack_rows_s4_s8``) into ``[out][in]`` and the zero tail.
    """
    conv = _conv(op)
    w = graph.tensors[conv.inputs[1]]
    if conv.builtin == "DEPTHWISE_CONV_2D":
        _, k_h, k_w, out_c = w.shape
        count, width = -(-out_c // 4) * 4 * k_h * k_w + WEIGHT_TAIL // 2, 2
    elif conv.builtin == "CONV_2D":
        out_c, k_h, k_w, in_c = w.shape
        count, width = out_c * k_h * row_taps(k_w, in_c) + WEIGHT_TAIL, 1
    else:
        return w.size + WEIGHT_TAIL, 1
    return -(-count // GROUP) * GROUP, width


def fc_rows_scratch(graph: Graph, op: Operator) -> int:
    """Scratch of the FULLY_CONNECTED variant that unpacks two rows at a time (eq_fc_s4_scratch_bytes).

    Two expanded channel rows, then two unpacked rows of weights and the zero tail.
    """
    return 2 * CHANNEL_ROW + 2 * graph.tensors[op.inputs[1]].shape[-1] + WEIGHT_TAIL


def unpack_call(graph: Graph, op, source: str, unpacked: str) -> tuple[str, list[str]]:
    """(function, arguments) of the C call that unpacks ``op``'s packed weights ``source`` into ``unpacked``."""
    conv = _conv(op)
    if conv.builtin == "FULLY_CONNECTED":
        rows, length = graph.tensors[conv.inputs[1]].shape
        return "eq_unpack_rows_s4_s8", [source, str(rows), str(length), unpacked]
    kernel = "eq_unpack_s4_s16" if conv.builtin == "DEPTHWISE_CONV_2D" else "eq_unpack_s4_s8"
    return kernel, [source, str(unpacked_values(graph, op)[0]), unpacked]


def unpacked_weights_bytes(graph: Graph, op) -> int:
    """Bytes of ``op``'s scratch that hold its unpacked weights (0 without int4 weights), 16-byte aligned."""
    if not has_int4_weights(graph, op):
        return 0
    values, width = unpacked_values(graph, op)
    return -(-values * width // ALIGN) * ALIGN


def output_channels(graph: Graph, op) -> int:
    """Output channels of a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED (one ``eq_channel`` row each)."""
    conv = _conv(op)
    w = graph.tensors[conv.inputs[1]]
    return w.shape[-1] if conv.builtin == "DEPTHWISE_CONV_2D" else w.shape[0]


def channel_rows_bytes(graph: Graph, op) -> int:
    """Bytes of ``op``'s scratch that hold its expanded ``eq_channel`` rows (0 without int4 weights)."""
    return CHANNEL_ROW * output_channels(graph, op) if has_int4_weights(graph, op) else 0


def unpacked_bytes(graph: Graph, op) -> int:
    """Bytes of ``op``'s scratch its prelude fills before the kernel's own scratch (0 without int4 weights).

    The unpacked weights, then the expanded channel rows; a multiple of 16 bytes.
    """
    return unpacked_weights_bytes(graph, op) + channel_rows_bytes(graph, op)


def compact_rows(table: ChannelTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bias int32, mult int32, shift int8) of ``table``'s rows: what eq_expand_channels expands back exactly."""
    bias, mult, shift, rounds = (np.asarray(col, np.int64) for col in zip(*table.rows))
    if shift.min() < -128 or shift.max() > 127:
        raise ValueError(f"a shift of {int(shift.min())} .. {int(shift.max())} does not fit int8")
    if any(rounding(table.rq, table.base, int(e)) != r for e, r in zip(shift, rounds)):
        raise ValueError("rounding constants that do not follow from the shifts")
    return bias.astype(np.int32), mult.astype(np.int32), shift.astype(np.int8)


def expand_args(bias: str, mult: str, shift: str, table: ChannelTable, rows: str) -> list[str]:
    """The arguments of ``eq_expand_channels``: the compact arrays, the count, the rq form and K, the RAM rows."""
    return [bias, mult, shift, str(len(table.rows)), str(table.rq), str(table.base), rows]


def packed_layout(graph: Graph, op) -> tuple[np.ndarray, int, str]:
    """(packed bytes as uint8, values they hold, layout comment): the kernel layout of ``op``'s int4 weights."""
    conv = _conv(op)
    w = graph.tensors[conv.inputs[1]]
    values = w.numpy()
    if values is None:
        raise ValueError(f"int4 weights {w.name!r} without data")
    if conv.builtin == "DEPTHWISE_CONV_2D":
        data, layout = depthwise_weights(values), "int4 as int16 [quads][taps][4]"
    elif conv.builtin == "CONV_2D":
        data, layout = conv_weights(values), "int4 [out_c][k_h][row taps]"
    else:  # rows padded to whole words, so that any row unpacks on its own
        rows, length = w.shape
        data = np.zeros((rows, -(-length // GROUP) * GROUP), np.int8)
        data[:, :length] = values
        return np.frombuffer(pack_words(data), np.uint8), data.size, "int4 [out][in], rows padded to 8 values"
    count, _ = unpacked_values(graph, op)
    seq = np.zeros(count, np.int8)
    seq[: data.size] = np.asarray(data).astype(np.int8)
    return np.frombuffer(pack_words(seq), np.uint8), count, f"{layout}, 8 values a word"


def pack_words(values: np.ndarray) -> bytes:
    """int8 values in [-8, 7], a multiple of GROUP, packed as the engine's kernels unpack them (the module)."""
    flat = np.asarray(values, np.int8).reshape(-1, 2, GROUP // 2)
    if flat.size and (flat.min() < -8 or flat.max() > 7):
        raise ValueError(f"int4 values must lie in [-8, 7], got [{flat.min()}, {flat.max()}]")
    nibbles = flat.view(np.uint8) & 0x0F
    return (nibbles[:, 0, :] | (nibbles[:, 1, :] << 4)).astype(np.uint8).tobytes()
