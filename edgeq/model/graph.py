"""The typed graph of a single-subgraph TFLite model: tensors, operators, quantization."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from edgeq.errors import ModelFormatError, UnsupportedError
from edgeq.model.schema import ITEMSIZES, SUB_BYTE_BITS

# edgeq dtype name -> numpy dtype (little-endian, as stored in the flatbuffer).
NUMPY_DTYPES: dict[str, str] = {
    "float32": "<f4",
    "float16": "<f2",
    "float64": "<f8",
    "int8": "i1",
    "uint8": "u1",
    "int16": "<i2",
    "uint16": "<u2",
    "int32": "<i4",
    "uint32": "<u4",
    "int64": "<i8",
    "uint64": "<u8",
    "bool": "?",
    "complex64": "<c8",
    "complex128": "<c16",
}

FLOAT_DTYPES = frozenset({"float32", "float16", "float64", "bfloat16"})


@dataclass(frozen=True)
class Quantization:
    """Affine quantization of a tensor: ``real = scale * (q - zero_point)``.

    Attributes:
        scale: One scale per tensor, or one per channel along ``quantized_dimension``.
        zero_point: Same length as ``scale`` (the schema also allows it empty).
        quantized_dimension: The channel axis of per-channel quantization.
    """

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    quantized_dimension: int = 0

    def __post_init__(self) -> None:
        if self.zero_point and len(self.zero_point) != len(self.scale):
            raise ModelFormatError(f"quantization has {len(self.scale)} scales but {len(self.zero_point)} zero points")

    @property
    def per_channel(self) -> bool:
        """True when there is more than one scale."""
        return len(self.scale) > 1


@dataclass(frozen=True)
class Tensor:
    """One tensor of the graph.

    Attributes:
        index: Position in the subgraph's tensor list.
        name: The tensor's name (may be empty).
        shape: Static shape; dynamic dimensions are 1 here and -1 in ``shape_signature``.
        shape_signature: Shape with -1 for dynamic dimensions (empty when not stored).
        dtype: edgeq dtype name such as ``"int8"`` or ``"float32"``.
        buffer: Index of the model buffer holding constant data (0 = none).
        data: The constant data, or None for activations and variables.
        quantization: Scales and zero points, or None when not quantized.
        is_variable: True for stateful variable tensors.
        is_sparse: True when the tensor carries sparsity parameters.
    """

    index: int
    name: str
    shape: tuple[int, ...]
    shape_signature: tuple[int, ...]
    dtype: str
    buffer: int
    data: bytes | None
    quantization: Quantization | None
    is_variable: bool = False
    is_sparse: bool = False

    @property
    def is_constant(self) -> bool:
        """True when the tensor's value is stored in the model."""
        return self.data is not None

    @property
    def size(self) -> int:
        """Number of elements (1 for a scalar)."""
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Bytes the tensor occupies at run time (its data length for strings and sparse data)."""
        itemsize = ITEMSIZES.get(self.dtype)
        if self.data is not None and (itemsize is None or self.is_sparse):
            return len(self.data)
        if self.dtype in SUB_BYTE_BITS:
            return (self.size * SUB_BYTE_BITS[self.dtype] + 7) // 8
        return self.size * (itemsize or 0)

    def numpy(self) -> np.ndarray | None:
        """The constant data as a read-only array of ``shape``, or None for non-constant tensors.

        int4 data (two values a byte) comes back unpacked, one int8 per value (:func:`unpack_int4`).

        Raises:
            UnsupportedError: The dtype has no numpy equivalent (uint4, bfloat16, string, ...)
                or the data is sparse.
        """
        if self.data is None:
            return None
        if self.dtype == "int4" and not self.is_sparse:
            return unpack_int4(self.data, self.size).reshape(self.shape)
        np_dtype = NUMPY_DTYPES.get(self.dtype)
        if np_dtype is None or self.is_sparse:
            kind = "sparse data" if self.is_sparse else f"dtype {self.dtype}"
            raise UnsupportedError(
                f"tensor {self.index} {self.name!r} has {kind}, which numpy() cannot decode; read Tensor.data instead"
            )
        return np.frombuffer(self.data, dtype=np_dtype).reshape(self.shape)


def unpack_int4(packed: bytes, count: int) -> np.ndarray:
    """``count`` int4 values packed two a byte, as a read-only int8 array.

    TFLite's rule (tflite-micro, tensorflow/lite/kernels/internal/portable_tensor_utils.cc,
    ``UnpackDenseInt4IntoInt8``): value ``2i`` is the low nibble of byte ``i``, value ``2i + 1`` its high
    nibble, each sign extended from 4 bits; an odd count leaves the last high nibble unused.
    """
    raw = np.frombuffer(packed, np.uint8, count=(count + 1) // 2)
    nibbles = np.empty(2 * len(raw), np.int8)
    nibbles[0::2] = (raw & 0x0F).astype(np.int8)
    nibbles[1::2] = (raw >> 4).astype(np.int8)
    values = np.where(nibbles >= 8, nibbles - 16, nibbles).astype(np.int8)[:count]
    values.flags.writeable = False
    return values


def pack_int4(values: np.ndarray) -> bytes:
    """int8 values in [-8, 7] packed two a byte as :func:`unpack_int4` reads them (a last odd high nibble 0)."""
    flat = np.asarray(values, np.int8).reshape(-1)
    if flat.size and (flat.min() < -8 or flat.max() > 7):
        raise ValueError(f"int4 values must lie in [-8, 7], got [{flat.min()}, {flat.max()}]")
    nibbles = np.zeros(flat.size + flat.size % 2, np.uint8)
    nibbles[: flat.size] = flat.view(np.uint8) & 0x0F
    return (nibbles[0::2] | (nibbles[1::2] << 4)).astype(np.uint8).tobytes()


@dataclass(frozen=True)
class Operator:
    """One operator of the graph.

    Attributes:
        index: Position in execution order.
        opcode_index: Index into the model's operator codes.
        builtin: BuiltinOperator name, e.g. ``"CONV_2D"`` (``"CUSTOM"`` for custom ops).
        custom_code: The custom op's name, or None.
        version: Operator version from the operator code.
        inputs: Tensor indices; -1 marks an absent optional input.
        outputs: Tensor indices.
        options: Decoded builtin options (see :mod:`edgeq.model.schema`); ``{}`` when not decoded.
    """

    index: int
    opcode_index: int
    builtin: str
    custom_code: str | None
    version: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def name(self) -> str:
        """The custom code for custom ops, else the builtin name."""
        return self.custom_code if self.builtin == "CUSTOM" and self.custom_code else self.builtin


@dataclass(frozen=True)
class Graph:
    """A parsed single-subgraph TFLite model.

    Attributes:
        name: The file path (or ``<bytes>``) the model came from.
        version: Schema version from the model (3 for current files).
        description: The model description (often ``"MLIR Converted."``).
        tensors: All tensors of the subgraph, by index.
        operators: Operators in execution order.
        inputs: Tensor indices of the graph inputs.
        outputs: Tensor indices of the graph outputs.
        subgraph_count: Number of subgraphs in the file (always 1 once read).
        subgraph_name: Name of the subgraph (may be empty).
        signature_keys: Keys of the signature defs, e.g. ``("serving_default",)``.
        metadata_names: Names of the metadata entries, e.g. ``("min_runtime_version",)``.
        buffer_count: Number of buffers in the model.
        size_bytes: File size.
        sha256: Hex SHA-256 of the file.
        external_buffers: Buffers whose data lies after the flatbuffer (Buffer.offset/size, the
            layout of models over 2 GB) and that a tensor uses; tflite-micro does not read them.
    """

    name: str
    version: int
    description: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    subgraph_count: int
    subgraph_name: str
    signature_keys: tuple[str, ...]
    metadata_names: tuple[str, ...]
    buffer_count: int
    size_bytes: int
    sha256: str
    external_buffers: tuple[int, ...] = ()

    @property
    def input_tensors(self) -> tuple[Tensor, ...]:
        """The graph input tensors, in order."""
        return tuple(self.tensors[i] for i in self.inputs)

    @property
    def output_tensors(self) -> tuple[Tensor, ...]:
        """The graph output tensors, in order."""
        return tuple(self.tensors[i] for i in self.outputs)

    @cached_property
    def producers(self) -> dict[int, int]:
        """Tensor index -> index of the operator that writes it (graph inputs and constants absent)."""
        return {t: op.index for op in self.operators for t in op.outputs if t >= 0}

    @cached_property
    def consumers(self) -> dict[int, tuple[int, ...]]:
        """Tensor index -> indices of the operators that read it, in execution order."""
        out: dict[int, list[int]] = {}
        for op in self.operators:
            for t in dict.fromkeys(op.inputs):
                if t >= 0:
                    out.setdefault(t, []).append(op.index)
        return {t: tuple(ops) for t, ops in out.items()}

    def tensor(self, index: int) -> Tensor | None:
        """The tensor at ``index``, or None for -1 (an absent optional input)."""
        return None if index < 0 else self.tensors[index]


# QUANTIZE and DEQUANTIZE convert between float and integer at a model's edges;
# they are not float computation even though one side of them is float.
CONVERSION_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})


def activation_dtypes(graph: Graph, op: Operator) -> tuple[str, ...]:
    """Distinct dtypes of the op's non-constant inputs and outputs, in order of appearance."""
    seen: list[str] = []
    for i in (*op.inputs, *op.outputs):
        tensor = graph.tensor(i)
        if tensor is not None and not tensor.is_constant and tensor.dtype not in seen:
            seen.append(tensor.dtype)
    return tuple(seen)


def computes_in_float(graph: Graph, op: Operator) -> bool:
    """True when ``op`` does float arithmetic: a non-constant float input or output.

    QUANTIZE and DEQUANTIZE are edge conversions and never count.
    """
    if op.builtin in CONVERSION_OPS:
        return False
    return any(d in FLOAT_DTYPES for d in activation_dtypes(graph, op))
