"""The operations the Edge TPU compiler can map, with their documented limitations.

Sources (facts only; the wording below is edgeq's own):

- Coral, "TensorFlow models on the Edge TPU", section "Supported operations"
  (https://coral.ai/docs/edgetpu/models-intro/#supported-operations); read here
  through two public copies of that table: an older one (the ops up to
  StridedSlice) and Axis Communications' ARTPEC-7 DLPU page, which documents
  the same Edge TPU compiler (https://developer.axis.com/computer-vision/
  on-device/system-on-chip/artpec-7/supported-ops/) for the later additions
  (ExpandDims, LSTM, Pack, PReLU, Quantize, ReduceMax/Min) and the dilation and
  batch-dimension limits.
- google-coral/edgetpu issue 193: compiler version 16 maps Transpose.
- google-coral/edgetpu issues 64 and 684: TransposeConv is in the supported table.
- google-coral/edgetpu issues 272 and 597: LeakyRelu and HardSwish are not supported.

Ops the current Coral table may also list but that no source read here shows
(for example Rsqrt, Sum, SquaredDifference) are left out on purpose: edgeq
reports them as "Operation not supported", the conservative answer.
"""

from __future__ import annotations

# TFLite builtin name -> the documented limitation ("" when the table gives none).
SUPPORTED_OPS: dict[str, str] = {
    "ADD": "",
    "AVERAGE_POOL_2D": "no fused activation function",
    "CONCATENATION": (
        "no fused activation function; a constant input is allowed only as one of exactly two inputs "
        "and only when it is all zeros (a zero padding)"
    ),
    "CONV_2D": "the same dilation along x and y",
    "DEPTHWISE_CONV_2D": "the same dilation along x and y",
    "EXPAND_DIMS": "",
    "FULLY_CONNECTED": "default weights format only; the output is one-dimensional",
    "L2_NORMALIZATION": "",
    "LOGISTIC": "",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "unidirectional LSTM only",
    "MAXIMUM": "",
    "MAX_POOL_2D": "no fused activation function",
    "MEAN": "no reduction over the batch dimension; reducing the channel (z) dimension needs a multiple of 4",
    "MINIMUM": "",
    "MUL": "",
    "PACK": "no packing along the batch dimension",
    "PAD": "no padding of the batch dimension",
    "PRELU": "alpha may be larger than 1 only along its innermost dimension",
    "QUANTIZE": "",
    "REDUCE_MAX": "no reduction over the batch dimension",
    "REDUCE_MIN": "no reduction over the batch dimension",
    "RELU": "",
    "RELU6": "",
    "RELU_N1_TO_1": "",
    "RESHAPE": "some reshapes of large tensors are not mapped",
    "RESIZE_BILINEAR": "3-dimensional input and output; some sizes are not mapped to avoid a loss of precision",
    "RESIZE_NEAREST_NEIGHBOR": "3-dimensional input and output; some sizes are not mapped to avoid a loss of precision",
    "SLICE": "",
    "SOFTMAX": "a one-dimensional input of at most 16,000 elements",
    "SPACE_TO_DEPTH": "",
    "SPLIT": "",
    "SQUEEZE": "only leading dimensions of size 1 may be removed (no relayout)",
    "STRIDED_SLICE": "all strides 1, ellipsis mask 0 and new-axis mask 0",
    "SUB": "",
    "TANH": "",
    "TRANSPOSE": "",
    "TRANSPOSE_CONV": "",
}

# The op a compiled model holds for the part the Edge TPU runs.
EDGETPU_CUSTOM_OP = "edgetpu-custom-op"

# Input positions that hold parameters, which the Edge TPU needs fixed at compile
# time ("model parameters such as bias tensors are constant", Coral's model requirements).
PARAMETER_INPUTS: dict[str, tuple[int, ...]] = {
    "CONV_2D": (1, 2),
    "DEPTHWISE_CONV_2D": (1, 2),
    "FULLY_CONNECTED": (1, 2),
    "TRANSPOSE_CONV": (0, 1, 3),
    "PRELU": (1,),
    "PAD": (1,),
    "MEAN": (1,),
    "REDUCE_MAX": (1,),
    "REDUCE_MIN": (1,),
    "RESHAPE": (1,),
    "EXPAND_DIMS": (1,),
    "SLICE": (1, 2),
    "STRIDED_SLICE": (1, 2, 3),
    "SPLIT": (0,),
    "TRANSPOSE": (1,),
    "RESIZE_BILINEAR": (1,),
    "RESIZE_NEAREST_NEIGHBOR": (1,),
}

# The input that carries the data for ops whose other inputs are parameters.
DATA_INPUT: dict[str, int] = {"SPLIT": 1, "TRANSPOSE_CONV": 2}


def is_supported(name: str) -> bool:
    """True when ``name`` (a TFLite builtin name) is in the Edge TPU's supported-operations table."""
    return name in SUPPORTED_OPS


def limitation(name: str) -> str:
    """The documented limitation of a supported op ("" when none is documented or the op is unsupported)."""
    return SUPPORTED_OPS.get(name, "")
