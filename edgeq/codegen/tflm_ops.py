"""Which ``tflite::MicroMutableOpResolver`` method registers each TFLite op.

A generated TFLM project registers exactly the kernels its model uses, e.g.
``resolver.AddConv2D();``. This module maps the op names edgeq's model reader
reports to those method names.

Where the facts come from: the ``Add*()`` methods of
``tensorflow/lite/micro/micro_mutable_op_resolver.h`` in TensorFlow Lite Micro
(the 2025 revision, whose builtin methods take a ``TFLMRegistration``), plus the
four methods added after it (``AddDynamicUpdateSlice``, ``AddReduceAll``,
``AddDecode``, ``AddBasicClassifier``), checked against the kernels compiled
into the ``tflite-micro`` wheel 0.dev20261023182759 (git 8f6596d).
``tests/codegen/test_tflm_ops.py`` checks the table against that wheel's
``Register_*`` symbols.

Method names mostly follow the enum name in CamelCase (``LEAKY_RELU`` ->
``AddLeakyRelu``). These do not:

* ``AVERAGE_POOL_2D``, ``CONV_2D``, ``DEPTHWISE_CONV_2D``, ``L2_POOL_2D`` and
  ``MAX_POOL_2D`` keep ``2D`` upper case (``AddConv2D``);
* ``BATCH_MATMUL`` -> ``AddBatchMatMul``, ``CUMSUM`` -> ``AddCumSum``,
  ``PADV2`` -> ``AddPadV2``, ``UNIDIRECTIONAL_SEQUENCE_LSTM`` ->
  ``AddUnidirectionalSequenceLSTM``.

Custom ops are keyed by ``custom_code`` in :data:`CUSTOM_METHODS`. The signal
library ops are registered under ``Signal``-prefixed names (``AddWindow``
registers ``"SignalWindow"``), the SSD post-processing op is
``"TFLite_Detection_PostProcess"`` (``AddDetectionPostprocess``, lower-case p),
and ``AddEthosU`` registers ``"ethos-u"`` only in builds with an Ethos-U driver.
"""

from __future__ import annotations

from collections.abc import Iterable

from edgeq.errors import UnsupportedError
from edgeq.model import Graph, read_model

# BuiltinOperator enum name -> MicroMutableOpResolver method.
RESOLVER_METHODS: dict[str, str] = {
    "ABS": "AddAbs",
    "ADD": "AddAdd",
    "ADD_N": "AddAddN",
    "ARG_MAX": "AddArgMax",
    "ARG_MIN": "AddArgMin",
    "ASSIGN_VARIABLE": "AddAssignVariable",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "BATCH_MATMUL": "AddBatchMatMul",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "BROADCAST_ARGS": "AddBroadcastArgs",
    "BROADCAST_TO": "AddBroadcastTo",
    "CALL_ONCE": "AddCallOnce",
    "CAST": "AddCast",
    "CEIL": "AddCeil",
    "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D",
    "COS": "AddCos",
    "CUMSUM": "AddCumSum",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEQUANTIZE": "AddDequantize",
    "DIV": "AddDiv",
    "DYNAMIC_UPDATE_SLICE": "AddDynamicUpdateSlice",
    "ELU": "AddElu",
    "EMBEDDING_LOOKUP": "AddEmbeddingLookup",
    "EQUAL": "AddEqual",
    "EXP": "AddExp",
    "EXPAND_DIMS": "AddExpandDims",
    "FILL": "AddFill",
    "FLOOR": "AddFloor",
    "FLOOR_DIV": "AddFloorDiv",
    "FLOOR_MOD": "AddFloorMod",
    "FULLY_CONNECTED": "AddFullyConnected",
    "GATHER": "AddGather",
    "GATHER_ND": "AddGatherNd",
    "GREATER": "AddGreater",
    "GREATER_EQUAL": "AddGreaterEqual",
    "HARD_SWISH": "AddHardSwish",
    "IF": "AddIf",
    "L2_NORMALIZATION": "AddL2Normalization",
    "L2_POOL_2D": "AddL2Pool2D",
    "LEAKY_RELU": "AddLeakyRelu",
    "LESS": "AddLess",
    "LESS_EQUAL": "AddLessEqual",
    "LOG": "AddLog",
    "LOGICAL_AND": "AddLogicalAnd",
    "LOGICAL_NOT": "AddLogicalNot",
    "LOGICAL_OR": "AddLogicalOr",
    "LOGISTIC": "AddLogistic",
    "LOG_SOFTMAX": "AddLogSoftmax",
    "MAXIMUM": "AddMaximum",
    "MAX_POOL_2D": "AddMaxPool2D",
    "MEAN": "AddMean",
    "MINIMUM": "AddMinimum",
    "MIRROR_PAD": "AddMirrorPad",
    "MUL": "AddMul",
    "NEG": "AddNeg",
    "NOT_EQUAL": "AddNotEqual",
    "PACK": "AddPack",
    "PAD": "AddPad",
    "PADV2": "AddPadV2",
    "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize",
    "READ_VARIABLE": "AddReadVariable",
    "REDUCE_ALL": "AddReduceAll",
    "REDUCE_MAX": "AddReduceMax",
    "REDUCE_MIN": "AddReduceMin",
    "RELU": "AddRelu",
    "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape",
    "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor",
    "REVERSE_V2": "AddReverseV2",
    "ROUND": "AddRound",
    "RSQRT": "AddRsqrt",
    "SELECT_V2": "AddSelectV2",
    "SHAPE": "AddShape",
    "SIN": "AddSin",
    "SLICE": "AddSlice",
    "SOFTMAX": "AddSoftmax",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "SPACE_TO_DEPTH": "AddSpaceToDepth",
    "SPLIT": "AddSplit",
    "SPLIT_V": "AddSplitV",
    "SQRT": "AddSqrt",
    "SQUARE": "AddSquare",
    "SQUARED_DIFFERENCE": "AddSquaredDifference",
    "SQUEEZE": "AddSqueeze",
    "STRIDED_SLICE": "AddStridedSlice",
    "SUB": "AddSub",
    "SUM": "AddSum",
    "SVDF": "AddSvdf",
    "TANH": "AddTanh",
    "TRANSPOSE": "AddTranspose",
    "TRANSPOSE_CONV": "AddTransposeConv",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
    "UNPACK": "AddUnpack",
    "VAR_HANDLE": "AddVarHandle",
    "WHILE": "AddWhile",
    "ZEROS_LIKE": "AddZerosLike",
}

# Operator custom_code -> MicroMutableOpResolver method (these call AddCustom()).
CUSTOM_METHODS: dict[str, str] = {
    "BasicClassifier": "AddBasicClassifier",
    "CIRCULAR_BUFFER": "AddCircularBuffer",
    "TFLM_DECODE": "AddDecode",
    "TFLite_Detection_PostProcess": "AddDetectionPostprocess",
    "ethos-u": "AddEthosU",
    "SignalDelay": "AddDelay",
    "SignalEnergy": "AddEnergy",
    "SignalFftAutoScale": "AddFftAutoScale",
    "SignalFilterBank": "AddFilterBank",
    "SignalFilterBankLog": "AddFilterBankLog",
    "SignalFilterBankSpectralSubtraction": "AddFilterBankSpectralSubtraction",
    "SignalFilterBankSquareRoot": "AddFilterBankSquareRoot",
    "SignalFramer": "AddFramer",
    "SignalIrfft": "AddIrfft",
    "SignalOverlapAdd": "AddOverlapAdd",
    "SignalPCAN": "AddPCAN",
    "SignalRfft": "AddRfft",
    "SignalStacker": "AddStacker",
    "SignalWindow": "AddWindow",
}

_RESOLVER = "TensorFlow Lite Micro's op resolver (MicroMutableOpResolver)"


def _lookup(op_name: str, custom_code: str | None) -> tuple[str | None, str]:
    """The method for one op (or None) and the op's display name."""
    if op_name == "CUSTOM":
        if not custom_code:
            return None, "CUSTOM (no custom code)"
        return CUSTOM_METHODS.get(custom_code), f"CUSTOM {custom_code!r}"
    if op_name in RESOLVER_METHODS:
        return RESOLVER_METHODS[op_name], op_name
    # Operator.name gives the custom code for custom ops; accept it as well.
    return CUSTOM_METHODS.get(op_name), op_name


def _unsupported(names: list[str]) -> UnsupportedError:
    if len(names) == 1:
        return UnsupportedError(f"op {names[0]} has no kernel in {_RESOLVER}; replace the layer or convert without it")
    return UnsupportedError(
        f"ops {', '.join(names)} have no kernel in {_RESOLVER}; replace those layers or convert without them"
    )


def resolver_method(op_name: str, custom_code: str | None = None) -> str:
    """The ``MicroMutableOpResolver`` method that registers one op.

    Args:
        op_name: The BuiltinOperator name as edgeq's model reader spells it
            (``"CONV_2D"``), ``"CUSTOM"`` for custom ops, or a custom op's code
            (what :attr:`edgeq.model.graph.Operator.name` returns).
        custom_code: The custom op's name when ``op_name`` is ``"CUSTOM"``.

    Returns:
        The method name, e.g. ``"AddConv2D"``.

    Raises:
        UnsupportedError: TFLM has no kernel for the op.
    """
    method, shown = _lookup(op_name, custom_code)
    if method is None:
        raise _unsupported([shown])
    return method


def resolver_methods(ops: Iterable[tuple[str, str | None]]) -> list[str]:
    """The distinct resolver methods a model needs, in first-seen order.

    Args:
        ops: ``(op_name, custom_code)`` pairs, one per operator (repeats are fine).

    Returns:
        Method names without repeats, in the order their ops first appear.

    Raises:
        UnsupportedError: Some ops have no TFLM kernel; the message lists all of them.
    """
    methods: list[str] = []
    missing: list[str] = []
    for op_name, custom_code in ops:
        method, shown = _lookup(op_name, custom_code)
        if method is None:
            if shown not in missing:
                missing.append(shown)
        elif method not in methods:
            methods.append(method)
    if missing:
        raise _unsupported(missing)
    return methods


def check_model_ops(model: bytes) -> None:
    """Raise the UnsupportedError of :func:`resolver_methods` for a model (.tflite bytes) with ops TFLM lacks.

    The host-tflm target calls this before it starts the interpreter, which would only say that it
    failed to allocate tensors.
    """
    graph = read_model(model)
    resolver_methods((op.builtin, op.custom_code) for op in graph.operators)
    check_tflm_buffers(graph, "use --target host-c")


def check_tflm_buffers(graph: Graph, instead: str) -> None:
    """UnsupportedError for constants stored after the flatbuffer (Buffer.offset/size), which TFLM does not read.

    tflite-micro reads only a buffer's inline data: it would allocate those
    tensors in the arena and run without their values, a silently wrong result.
    """
    if graph.external_buffers:
        raise UnsupportedError(
            f"{graph.name} stores constant data after the flatbuffer (Buffer.offset/size of buffers "
            f"{', '.join(map(str, graph.external_buffers[:5]))}{', ...' if len(graph.external_buffers) > 5 else ''}), "
            f"which tflite-micro does not read (it would run without those values); {instead}, "
            "or re-export the model with its constants inline"
        )
