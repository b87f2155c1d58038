"""Parse and validate a .tflite file into a :class:`~edgeq.model.graph.Graph` (no TensorFlow).

Everything read from the file is checked before use: offsets and lengths stay
inside the file, tensor and opcode indices are in range, shapes are sane,
quantization arrays agree, and constant data has the size its shape implies.
Any violation raises :class:`~edgeq.errors.ModelFormatError` with a one-line
message naming the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
from pathlib import Path
from typing import NoReturn

from edgeq.errors import ModelFormatError
from edgeq.model.flatbuf import FlatBuffer, Table
from edgeq.model.graph import Graph, Operator, Quantization, Tensor
from edgeq.model.schema import (
    CUSTOM,
    FILE_IDENTIFIER,
    SUB_BYTE_BITS,
    TENSOR_TYPES,
    BufferSlot,
    MetadataSlot,
    ModelSlot,
    OperatorCodeSlot,
    OperatorSlot,
    QuantizationSlot,
    SignatureDefSlot,
    SubGraphSlot,
    TensorMapSlot,
    TensorSlot,
    builtin_name,
    decode_options,
)

MAX_RANK = 16
MAX_ELEMENTS = 2**31 - 1
PARSED_KEPT = 4  # graphs kept by the bytes' SHA-256, so one command parses a model once
_PARSED: dict[str, Graph] = {}

Source = str | os.PathLike | bytes | bytearray | memoryview


def read_model(source: Source, *, name: str | None = None) -> Graph:
    """Read a single-subgraph .tflite model from a path or from bytes.

    Args:
        source: Path of a .tflite file, or the file's bytes.
        name: How error messages name the model (default: the path, or ``<bytes>``).

    Returns:
        The parsed, validated graph.

    Raises:
        ModelFormatError: The file is missing, unreadable, not a TFLite model,
            corrupt, truncated, or has more than one subgraph.
    """
    data, name = _load(source, name)
    digest = hashlib.sha256(data).hexdigest()
    parsed = _PARSED.get(digest)
    if parsed is not None:  # the same bytes again (e.g. profile -> target -> firmware): parsed once
        return parsed if parsed.name == name else dataclasses.replace(parsed, name=name)
    graph = _parse(data, name, digest)
    _PARSED[digest] = graph
    while len(_PARSED) > PARSED_KEPT:
        del _PARSED[next(iter(_PARSED))]
    return graph


def _parse(data: bytes, name: str, digest: str) -> Graph:
    """The graph of ``data`` (ModelFormatError naming ``name`` if it is not a valid model)."""
    _check_header(data, name)
    fb = FlatBuffer(data, name)
    model = fb.root()
    subgraph = _single_subgraph(fb, model)
    buffer_tables = model.tables(ModelSlot.BUFFERS)
    buffers = [_read_buffer(fb, i, t) for i, t in enumerate(buffer_tables)]
    opcodes = [_read_opcode(fb, i, t) for i, t in enumerate(model.tables(ModelSlot.OPERATOR_CODES))]
    tensor_tables = subgraph.tables(SubGraphSlot.TENSORS)
    tensors = tuple(_read_tensor(fb, i, t, buffers) for i, t in enumerate(tensor_tables))
    op_tables = subgraph.tables(SubGraphSlot.OPERATORS)
    operators = tuple(_read_operator(fb, i, t, opcodes, len(tensors)) for i, t in enumerate(op_tables))
    return Graph(
        name=name,
        version=model.scalar(ModelSlot.VERSION, "I", 0),
        description=model.string(ModelSlot.DESCRIPTION) or "",
        tensors=tensors,
        operators=operators,
        inputs=_indices(fb, subgraph.vector(SubGraphSlot.INPUTS, "i"), len(tensors), "graph input"),
        outputs=_indices(fb, subgraph.vector(SubGraphSlot.OUTPUTS, "i"), len(tensors), "graph output"),
        subgraph_count=1,
        subgraph_name=subgraph.string(SubGraphSlot.NAME) or "",
        signature_keys=_signature_keys(model),
        metadata_names=_names(model, ModelSlot.METADATA, MetadataSlot.NAME),
        buffer_count=len(buffers),
        size_bytes=len(data),
        sha256=digest,
        external_buffers=_external(tensors, buffer_tables),
    )


def read_bytes(source: Source) -> bytes:
    """The raw bytes of a model file (ModelFormatError for a missing or unreadable file)."""
    return _load(source, None)[0]


def _load(source: Source, name: str | None) -> tuple[bytes, str]:
    """The model bytes and the name error messages use."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), name or "<bytes>"
    name = name or os.fspath(source)
    try:
        return Path(source).read_bytes(), name
    except FileNotFoundError:
        raise ModelFormatError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ModelFormatError(f"{name} is a directory; pass a .tflite file") from None
    except PermissionError:
        raise ModelFormatError(f"{name}: permission denied; make the file readable") from None
    except OSError as exc:
        raise ModelFormatError(f"{name}: cannot read ({exc.strerror or exc})") from exc


def _check_header(data: bytes, name: str) -> None:
    """Fail unless ``data`` is long enough and carries the TFL3 file identifier."""
    if not data:
        raise ModelFormatError(f"{name} is empty (0 bytes)")
    if len(data) < 8:
        raise ModelFormatError(
            f"{name} is too small to be a TFLite model ({len(data)} bytes); pass a .tflite flatbuffer"
        )
    ident = data[4:8]
    if ident != FILE_IDENTIFIER:
        raise ModelFormatError(
            f"{name} is not a TFLite model (file identifier {ident!r}, expected "
            f"{FILE_IDENTIFIER!r}); pass a .tflite flatbuffer"
        )


def _bad(fb: FlatBuffer, detail: str) -> NoReturn:
    """Raise the one-line error for a structurally readable but invalid model."""
    raise ModelFormatError(f"{fb.name} is not a valid TFLite model ({detail}); re-export it with the TFLite converter")


def _single_subgraph(fb: FlatBuffer, model: Table) -> Table:
    subgraphs = model.tables(ModelSlot.SUBGRAPHS)
    if len(subgraphs) != 1:
        raise ModelFormatError(
            f"{fb.name} has {len(subgraphs)} subgraphs; edgeq supports single-subgraph models "
            "(no control flow such as WHILE/IF/CALL_ONCE); convert a model without control flow"
        )
    return subgraphs[0]


def _is_external(table: Table) -> bool:
    """True when the buffer's data lies at offset/size rather than inline.

    Offset 0 means inline data, 1 the placeholder written before the offset is known.
    """
    return table.scalar(BufferSlot.OFFSET, "Q", 0) > 1


def _external(tensors: tuple[Tensor, ...], buffer_tables: list[Table]) -> tuple[int, ...]:
    """The buffers stored at offset/size that some tensor uses."""
    used = {t.buffer for t in tensors if t.buffer < len(buffer_tables)}
    return tuple(sorted(b for b in used if _is_external(buffer_tables[b])))


def _read_buffer(fb: FlatBuffer, index: int, table: Table) -> bytes | None:
    """A buffer's data: inline, or at offset/size from the file start (models > 2 GB)."""
    offset = table.scalar(BufferSlot.OFFSET, "Q", 0)
    if _is_external(table):
        size = table.scalar(BufferSlot.SIZE, "Q", 0)
        if offset + size > fb.size:
            fb.fail(f"buffer {index} spans bytes {offset}..{offset + size} of a {fb.size}-byte file")
        return fb.region(offset, size) or None
    return table.bytes(BufferSlot.DATA) or None


def _read_opcode(fb: FlatBuffer, index: int, table: Table) -> tuple[str, str | None, int]:
    """``(builtin name, custom code, version)`` of one operator code."""
    deprecated = table.scalar(OperatorCodeSlot.DEPRECATED_BUILTIN_CODE, "b", 0)
    code = max(deprecated, table.scalar(OperatorCodeSlot.BUILTIN_CODE, "i", 0))
    if code < 0:
        _bad(fb, f"operator code {index} has builtin code {code}")
    custom = table.string(OperatorCodeSlot.CUSTOM_CODE) if code == CUSTOM else None
    return builtin_name(code), custom, table.scalar(OperatorCodeSlot.VERSION, "i", 1)


def _read_tensor(fb: FlatBuffer, index: int, table: Table, buffers: list[bytes | None]) -> Tensor:
    shape = table.vector(TensorSlot.SHAPE, "i")
    _check_shape(fb, index, shape, min_dim=0)
    signature = table.vector(TensorSlot.SHAPE_SIGNATURE, "i")
    _check_shape(fb, index, signature, min_dim=-1)
    type_num = table.scalar(TensorSlot.TYPE, "b", 0)
    if type_num not in TENSOR_TYPES:
        _bad(fb, f"tensor {index} has unknown type {type_num}, known 0..{max(TENSOR_TYPES)}")
    dtype, itemsize = TENSOR_TYPES[type_num]
    buffer = table.scalar(TensorSlot.BUFFER, "I", 0)
    if buffer and buffer >= len(buffers):
        _bad(fb, f"tensor {index} uses buffer {buffer} but the model has {len(buffers)}")
    data = buffers[buffer] if buffer < len(buffers) else None
    sparse = table.has(TensorSlot.SPARSITY)
    if data is not None and itemsize and not sparse and len(data) != math.prod(shape) * itemsize:
        _bad(fb, f"tensor {index} has {len(data)} bytes of data, shape {list(shape)} {dtype} "
             f"needs {math.prod(shape) * itemsize}")  # fmt: skip
    packed = (math.prod(shape) * SUB_BYTE_BITS.get(dtype, 0) + 7) // 8
    if data is not None and dtype in SUB_BYTE_BITS and not sparse and len(data) != packed:
        _bad(fb, f"tensor {index} has {len(data)} bytes of data, shape {list(shape)} {dtype} "
             f"needs {packed} ({SUB_BYTE_BITS[dtype]}-bit values packed into bytes)")  # fmt: skip
    return Tensor(
        index=index,
        name=table.string(TensorSlot.NAME) or "",
        shape=shape,
        shape_signature=signature,
        dtype=dtype,
        buffer=buffer,
        data=data,
        quantization=_read_quantization(fb, index, table, shape, dtype),
        is_variable=table.scalar(TensorSlot.IS_VARIABLE, "?", False),
        is_sparse=sparse,
    )


def _check_shape(fb: FlatBuffer, index: int, shape: tuple[int, ...], min_dim: int) -> None:
    if len(shape) > MAX_RANK:
        _bad(fb, f"tensor {index} has rank {len(shape)}, more than {MAX_RANK}")
    if any(d < min_dim for d in shape):
        _bad(fb, f"tensor {index} has a dimension below {min_dim} in {list(shape)}")
    if math.prod(max(d, 1) for d in shape) > MAX_ELEMENTS:
        _bad(fb, f"tensor {index} shape {list(shape)} has more than 2**31 - 1 elements")


def _read_quantization(
    fb: FlatBuffer, index: int, table: Table, shape: tuple[int, ...], dtype: str
) -> Quantization | None:
    """Scales and zero points; None when the tensor is not quantized (as TFLM reads it).

    Strict about what is indexed per channel (as many zero points as scales, or
    one for all; scales along an axis of that length), lenient about what TFLM
    ignores (docs/model-compatibility.md):

    - no scales, or scales without zero points: not quantized, as TFLM reads
      it; an int32 tensor (a bias, whose parameters no kernel reads) keeps its
      scales with zero points 0;
    - one zero point for several scales: repeated for every channel;
    - ``quantized_dimension`` matters only with several scales on a tensor of
      rank 2 or more (TFLM checks a filter's); with one scale it is ignored
      (kept when it names an axis, else 0), and a 1-D tensor with one scale
      per entry (a per-channel bias, to which older converters copied the
      filter's axis) has axis 0.
    """
    quant = table.table(TensorSlot.QUANTIZATION)
    if quant is None:
        return None
    for slot in (QuantizationSlot.MIN, QuantizationSlot.MAX):
        quant.vector(slot, "f")  # calibration ranges edgeq does not use, read to check they lie in the file
    scale = quant.vector(QuantizationSlot.SCALE, "f")
    zero_point = quant.vector(QuantizationSlot.ZERO_POINT, "q")
    if not scale:
        return None
    if not zero_point and dtype != "int32":
        return None  # TFLM quantizes a tensor only with both arrays; its kernels then refuse it as unquantized
    if len(zero_point) == 1:
        zero_point = zero_point * len(scale)
    if zero_point and len(zero_point) != len(scale):
        _bad(fb, f"tensor {index} has {len(scale)} scales but {len(zero_point)} zero points")
    if not all(math.isfinite(s) for s in scale):
        _bad(fb, f"tensor {index} has a non-finite quantization scale")
    axis = quant.scalar(QuantizationSlot.QUANTIZED_DIMENSION, "i", 0)
    if len(shape) == 1 and shape[0] == len(scale):
        axis = 0  # the only axis, whatever the file says (TFLM does not read a bias's)
    elif len(scale) == 1:
        axis = axis if 0 <= axis < len(shape) else 0  # per tensor: the field means nothing, kept when it is an axis
    elif not (0 <= axis < len(shape) and shape[axis] == len(scale)):
        _bad(fb, f"tensor {index} has {len(scale)} scales along axis {axis} of shape {list(shape)}")
    return Quantization(scale, zero_point or (0,) * len(scale), axis)


def _read_operator(
    fb: FlatBuffer,
    index: int,
    table: Table,
    opcodes: list[tuple[str, str | None, int]],
    ntensors: int,
) -> Operator:
    opcode_index = table.scalar(OperatorSlot.OPCODE_INDEX, "I", 0)
    if opcode_index >= len(opcodes):
        _bad(fb, f"operator {index} uses opcode {opcode_index} but the model has {len(opcodes)}")
    builtin, custom, version = opcodes[opcode_index]
    what = f"operator {index} ({builtin})"
    options_type = table.scalar(OperatorSlot.BUILTIN_OPTIONS_TYPE, "B", 0)
    options_table = table.table(OperatorSlot.BUILTIN_OPTIONS) if options_type else None
    return Operator(
        index=index,
        opcode_index=opcode_index,
        builtin=builtin,
        custom_code=custom,
        version=version,
        inputs=_indices(fb, table.vector(OperatorSlot.INPUTS, "i"), ntensors, f"{what} input", -1),
        outputs=_indices(fb, table.vector(OperatorSlot.OUTPUTS, "i"), ntensors, f"{what} output"),
        options=decode_options(options_type, options_table),
    )


def _indices(fb: FlatBuffer, indices: tuple[int, ...], ntensors: int, what: str, lowest: int = 0) -> tuple[int, ...]:
    """``indices`` after checking each is a tensor index (or -1 when ``lowest`` allows it)."""
    for i in indices:
        if not lowest <= i < ntensors:
            _bad(fb, f"{what} refers to tensor {i} but the subgraph has {ntensors} tensors")
    return indices


def _signature_keys(model: Table) -> tuple[str, ...]:
    """The signature keys; each signature's tensor maps are read too, to check that they lie in the file."""
    keys = []
    for signature in model.tables(ModelSlot.SIGNATURE_DEFS):
        for slot in (SignatureDefSlot.INPUTS, SignatureDefSlot.OUTPUTS):
            for tensor_map in signature.tables(slot):
                tensor_map.string(TensorMapSlot.NAME)
        keys.append(signature.string(SignatureDefSlot.SIGNATURE_KEY) or "")
    return tuple(keys)


def _names(model: Table, slot: int, name_slot: int) -> tuple[str, ...]:
    """The name field of each table in the vector at ``slot``."""
    return tuple(t.string(name_slot) or "" for t in model.tables(slot))
