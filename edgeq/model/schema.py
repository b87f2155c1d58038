"""Facts of the TFLite flatbuffer schema (tensorflow/compiler/mlir/lite/schema/schema.fbs).

Field slots are the zero-based field ids of each table, in declaration order
(a field's vtable entry is at ``4 + 2 * slot``). Only the fields edgeq reads are
listed. Enum tables map the schema's numbers to names.
"""

from __future__ import annotations

from typing import Any

from edgeq.model.flatbuf import Table

FILE_IDENTIFIER = b"TFL3"


class ModelSlot:
    """Slots of table ``Model``."""

    VERSION = 0  # uint32
    OPERATOR_CODES = 1  # [OperatorCode]
    SUBGRAPHS = 2  # [SubGraph]
    DESCRIPTION = 3  # string
    BUFFERS = 4  # [Buffer]
    METADATA_BUFFER = 5  # [int32]
    METADATA = 6  # [Metadata]
    SIGNATURE_DEFS = 7  # [SignatureDef]


class SubGraphSlot:
    """Slots of table ``SubGraph``."""

    TENSORS = 0  # [Tensor]
    INPUTS = 1  # [int32]
    OUTPUTS = 2  # [int32]
    OPERATORS = 3  # [Operator]
    NAME = 4  # string


class TensorSlot:
    """Slots of table ``Tensor``."""

    SHAPE = 0  # [int32]
    TYPE = 1  # TensorType (int8)
    BUFFER = 2  # uint32
    NAME = 3  # string
    QUANTIZATION = 4  # QuantizationParameters
    IS_VARIABLE = 5  # bool
    SPARSITY = 6  # SparsityParameters
    SHAPE_SIGNATURE = 7  # [int32]


class OperatorSlot:
    """Slots of table ``Operator``."""

    OPCODE_INDEX = 0  # uint32
    INPUTS = 1  # [int32]
    OUTPUTS = 2  # [int32]
    BUILTIN_OPTIONS_TYPE = 3  # BuiltinOptions union type (uint8)
    BUILTIN_OPTIONS = 4  # union value (table)
    CUSTOM_OPTIONS = 5  # [ubyte]
    INTERMEDIATES = 8  # [int32]


class OperatorCodeSlot:
    """Slots of table ``OperatorCode``.

    The builtin code is ``max(deprecated_builtin_code, builtin_code)``: old
    writers fill only the int8 field, new ones fill both (the int8 one capped at
    127, PLACEHOLDER_FOR_GREATER_OP_CODES).
    """

    DEPRECATED_BUILTIN_CODE = 0  # int8
    CUSTOM_CODE = 1  # string
    VERSION = 2  # int32, default 1
    BUILTIN_CODE = 3  # int32


class BufferSlot:
    """Slots of table ``Buffer``; offset/size (relative to file start) are used by >2 GB models."""

    DATA = 0  # [ubyte]
    OFFSET = 1  # uint64
    SIZE = 2  # uint64


class QuantizationSlot:
    """Slots of table ``QuantizationParameters``."""

    MIN = 0  # [float]
    MAX = 1  # [float]
    SCALE = 2  # [float]
    ZERO_POINT = 3  # [long]
    DETAILS_TYPE = 4  # QuantizationDetails union type
    DETAILS = 5  # union value
    QUANTIZED_DIMENSION = 6  # int32


class MetadataSlot:
    """Slots of table ``Metadata``."""

    NAME = 0  # string
    BUFFER = 1  # uint32


class SignatureDefSlot:
    """Slots of table ``SignatureDef``."""

    INPUTS = 0  # [TensorMap]
    OUTPUTS = 1  # [TensorMap]
    SIGNATURE_KEY = 2  # string
    SUBGRAPH_INDEX = 4  # uint32 (slot 3 is deprecated)


class TensorMapSlot:
    """Slots of table ``TensorMap`` (a signature's input or output)."""

    NAME = 0  # string
    TENSOR_INDEX = 1  # uint32


# TensorType number -> (edgeq dtype name, bytes per element or None when not fixed).
TENSOR_TYPES: dict[int, tuple[str, int | None]] = {
    0: ("float32", 4),
    1: ("float16", 2),
    2: ("int32", 4),
    3: ("uint8", 1),
    4: ("int64", 8),
    5: ("string", None),
    6: ("bool", 1),
    7: ("int16", 2),
    8: ("complex64", 8),
    9: ("int8", 1),
    10: ("float64", 8),
    11: ("complex128", 16),
    12: ("uint64", 8),
    13: ("resource", None),
    14: ("variant", None),
    15: ("uint32", 4),
    16: ("uint16", 2),
    17: ("int4", None),
    18: ("bfloat16", 2),
    19: ("int2", None),
    20: ("uint4", None),
    21: ("float8_e4m3fn", 1),
    22: ("float8_e5m2", 1),
}

# dtype name -> bytes per element (None for strings, handles and packed sub-byte types).
ITEMSIZES: dict[str, int | None] = dict(TENSOR_TYPES.values())

# Bits per element of the packed sub-byte types.
SUB_BYTE_BITS = {"int4": 4, "uint4": 4, "int2": 2}

# BuiltinOperator names; the position in this sequence is the operator's number.
_BUILTIN_NAMES = """
ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE
EMBEDDING_LOOKUP FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D
LOCAL_RESPONSE_NORMALIZATION LOGISTIC LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1
RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM
CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND
SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE
BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM
CAST PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL SELECT SLICE
SIN TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE
POW ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT
UNPACK REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE
RESIZE_NEAREST_NEIGHBOR LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V UNIQUE CEIL
REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG QUANTIZE
MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5
SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM
CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG REAL COMPLEX_ABS HASHTABLE HASHTABLE_FIND
HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE
ASSIGN_VARIABLE BROADCAST_ARGS RANDOM_STANDARD_NORMAL BUCKETIZE RANDOM_UNIFORM MULTINOMIAL
GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1 UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX
UNSORTED_SEGMENT_SUM ATAN2 UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR RIGHT_SHIFT
STABLEHLO_LOGISTIC STABLEHLO_ADD STABLEHLO_DIVIDE STABLEHLO_MULTIPLY STABLEHLO_MAXIMUM
STABLEHLO_RESHAPE STABLEHLO_CLAMP STABLEHLO_CONCATENATE STABLEHLO_BROADCAST_IN_DIM
STABLEHLO_CONVOLUTION STABLEHLO_SLICE STABLEHLO_CUSTOM_CALL STABLEHLO_REDUCE STABLEHLO_ABS
STABLEHLO_AND STABLEHLO_COSINE STABLEHLO_EXPONENTIAL STABLEHLO_FLOOR STABLEHLO_LOG
STABLEHLO_MINIMUM STABLEHLO_NEGATE STABLEHLO_OR STABLEHLO_POWER STABLEHLO_REMAINDER
STABLEHLO_RSQRT STABLEHLO_SELECT STABLEHLO_SUBTRACT STABLEHLO_TANH STABLEHLO_SCATTER
STABLEHLO_COMPARE STABLEHLO_CONVERT STABLEHLO_DYNAMIC_SLICE STABLEHLO_DYNAMIC_UPDATE_SLICE
STABLEHLO_PAD STABLEHLO_IOTA STABLEHLO_DOT_GENERAL STABLEHLO_REDUCE_WINDOW STABLEHLO_SORT
STABLEHLO_WHILE STABLEHLO_GATHER STABLEHLO_TRANSPOSE DILATE STABLEHLO_RNG_BIT_GENERATOR
REDUCE_WINDOW STABLEHLO_COMPOSITE STABLEHLO_SHIFT_LEFT STABLEHLO_CBRT STABLEHLO_CASE
"""
BUILTIN_OPERATORS: tuple[str, ...] = tuple(_BUILTIN_NAMES.split())
CUSTOM = BUILTIN_OPERATORS.index("CUSTOM")

PADDING = ("SAME", "VALID")
ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT")
WEIGHTS_FORMATS = ("DEFAULT", "SHUFFLED4x16INT8")

_PAD = ("padding", 0, "pad", 0)
_STRIDES = (("stride_w", 1, "i", 0), ("stride_h", 2, "i", 0))


def _act(slot: int) -> tuple[str, int, str, int]:
    return ("fused_activation_function", slot, "act", 0)


# BuiltinOptions union type -> (table name, fields as (key, slot, kind, default)).
# kind: b/i/f/? scalars (int8, int32, float32, bool), "ivec" an int32 vector,
# "pad"/"act"/"wfmt" int8 enums decoded to names.
BUILTIN_OPTIONS: dict[int, tuple[str, tuple[tuple[str, int, str, Any], ...]]] = {
    1: (
        "Conv2DOptions",
        (_PAD, *_STRIDES, _act(3), ("dilation_w", 4, "i", 1), ("dilation_h", 5, "i", 1)),
    ),
    2: (
        "DepthwiseConv2DOptions",
        (
            _PAD,
            *_STRIDES,
            ("depth_multiplier", 3, "i", 0),
            _act(4),
            ("dilation_w", 5, "i", 1),
            ("dilation_h", 6, "i", 1),
        ),
    ),
    5: (
        "Pool2DOptions",
        (_PAD, *_STRIDES, ("filter_width", 3, "i", 0), ("filter_height", 4, "i", 0), _act(5)),
    ),
    8: (
        "FullyConnectedOptions",
        (_act(0), ("weights_format", 1, "wfmt", 0), ("keep_num_dims", 2, "?", False)),
    ),
    9: ("SoftmaxOptions", (("beta", 0, "f", 0.0),)),
    10: ("ConcatenationOptions", (("axis", 0, "i", 0), _act(1))),
    11: ("AddOptions", (_act(0),)),
    17: ("ReshapeOptions", (("new_shape", 0, "ivec", None),)),
    21: ("MulOptions", (_act(0),)),
    28: ("SubOptions", (_act(0),)),
    49: ("TransposeConvOptions", (_PAD, *_STRIDES, _act(3))),
    101: ("BatchMatMulOptions", (("adj_x", 0, "?", False), ("adj_y", 1, "?", False))),
    27: ("ReducerOptions", (("keep_dims", 0, "?", False),)),
    30: ("SqueezeOptions", (("squeeze_dims", 0, "ivec", None),)),
    32: (
        "StridedSliceOptions",
        (
            ("begin_mask", 0, "i", 0),
            ("end_mask", 1, "i", 0),
            ("ellipsis_mask", 2, "i", 0),
            ("new_axis_mask", 3, "i", 0),
            ("shrink_axis_mask", 4, "i", 0),
            ("offset", 5, "?", False),
        ),
    ),
    59: ("PackOptions", (("values_count", 0, "i", 0), ("axis", 1, "i", 0))),
    19: ("SpaceToDepthOptions", (("block_size", 0, "i", 0),)),
    94: ("DepthToSpaceOptions", (("block_size", 0, "i", 0),)),
    23: ("GatherOptions", (("axis", 0, "i", 0), ("batch_dims", 1, "i", 0))),
    35: ("SplitOptions", (("num_splits", 0, "i", 0),)),
    79: ("SplitVOptions", (("num_splits", 0, "i", 0),)),
    64: ("UnpackOptions", (("num", 0, "i", 0), ("axis", 1, "i", 0))),
    75: ("LeakyReluOptions", (("alpha", 0, "f", 0.0),)),
    71: (
        "UnidirectionalSequenceLSTMOptions",
        (_act(0), ("cell_clip", 1, "f", 0.0), ("proj_clip", 2, "f", 0.0), ("time_major", 3, "?", False)),
    ),
    15: ("ResizeBilinearOptions", (("align_corners", 2, "?", False), ("half_pixel_centers", 3, "?", False))),
    74: ("ResizeNearestNeighborOptions", (("align_corners", 0, "?", False), ("half_pixel_centers", 1, "?", False))),
}

_SCALAR_FORMATS = {"b": "b", "i": "i", "f": "f", "?": "?", "pad": "b", "act": "b", "wfmt": "b"}
_ENUMS = {"pad": PADDING, "act": ACTIVATIONS, "wfmt": WEIGHTS_FORMATS}


def builtin_name(code: int) -> str:
    """The BuiltinOperator name of ``code`` (``UNKNOWN_<n>`` for numbers newer than this table)."""
    if 0 <= code < len(BUILTIN_OPERATORS):
        return BUILTIN_OPERATORS[code]
    return f"UNKNOWN_{code}"


def enum_name(names: tuple[str, ...], value: int) -> str:
    """``names[value]``, or ``UNKNOWN_<value>`` when out of range."""
    return names[value] if 0 <= value < len(names) else f"UNKNOWN_{value}"


def decode_options(options_type: int, table: Table | None) -> dict[str, Any]:
    """Decode a builtin-options union value into a plain dict.

    Options edgeq does not decode give ``{}``; an absent table gives the
    schema defaults.
    """
    spec = BUILTIN_OPTIONS.get(options_type)
    if spec is None:
        return {}
    out: dict[str, Any] = {}
    for key, slot, kind, default in spec[1]:
        if kind == "ivec":
            out[key] = None if table is None else table.vector(slot, "i", default)
            continue
        value = default if table is None else table.scalar(slot, _SCALAR_FORMATS[kind], default)
        out[key] = enum_name(_ENUMS[kind], value) if kind in _ENUMS else value
    return out
