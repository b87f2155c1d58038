"""Collects the C of one engine: constant arrays, parameter structs and kernel calls."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgeq.codegen.cgen import c_comment
from edgeq.codegen.engine.scratch import scratch_key
from edgeq.errors import ModelFormatError
from edgeq.model import Graph, Tensor
from edgeq.model.graph import NUMPY_DTYPES

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
CTYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t", "float32": "float"}


@dataclass
class Emitter:
    """Accumulates declarations and calls; knows the arena offsets of every tensor."""

    graph: Graph
    arena: str
    offsets: dict[int, int]
    block_cols: dict[int, int] = field(default_factory=dict)  # op index -> CONV_2D block columns (else 8)
    decls: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    flash_bytes: int = 0
    kernels: set[str] = field(default_factory=set)
    _consts: dict[int, str] = field(default_factory=dict)
    _arrays: set[str] = field(default_factory=set)

    def ptr(self, t: int, const: bool = False) -> str:
        """C expression of tensor ``t``'s buffer in the arena, typed by its dtype."""
        ctype = CTYPES[self.graph.tensors[t].dtype]
        qual = "const " if const else ""
        return f"(({qual}{ctype} *)({self.arena} + {self.offsets[t]}))"

    def scratch(self, op_index: int) -> str:
        """C expression of op ``op_index``'s scratch region in the arena (engine.scratch), or NULL."""
        offset = self.offsets.get(scratch_key(op_index))
        return "NULL" if offset is None else f"({self.arena} + {offset})"

    def const_tensor(self, tensor: Tensor, tail: int = 0) -> str:
        """A ``static const`` array holding a constant tensor (emitted once), 16-byte aligned.

        ``tail``: zero bytes after the data, for kernels that read a little past the end.
        """
        if tensor.index in self._consts:
            return self._consts[tensor.index]
        name = f"c{tensor.index}" if tensor.index >= 0 else f"cf{-tensor.index}"
        data = (tensor.data or b"") + bytes(tail)
        ctype = CTYPES[tensor.dtype]
        values = np.frombuffer(data, dtype=NUMPY_DTYPES[tensor.dtype])
        padded = f" + {tail} zero bytes read past the end" if tail else ""
        self.decls.append(f"/* {c_comment(tensor.name)[:100]} {list(tensor.shape)}{padded} */")
        self.decls.append(
            f"static const {ctype} {name}[{max(len(values), 1)}] EQ_ALIGN16 = {{\n{_literals(values, ctype)}\n}};"
        )
        self.flash_bytes += len(data)
        self._consts[tensor.index] = name
        return name

    def const_array(self, name: str, values: np.ndarray, comment: str, tail: int = 0) -> str:
        """A ``static const`` array of ``values`` (int8 or int16), 16-byte aligned, ``tail`` zero bytes after."""
        if name in self._arrays:
            return name
        self._arrays.add(name)
        values = np.concatenate([values.reshape(-1), np.zeros(-(-tail // values.itemsize), values.dtype)])
        ctype = CTYPES[str(values.dtype)]
        self.decls.append(f"/* {c_comment(comment)[:120]} */")
        self.decls.append(
            f"static const {ctype} {name}[{max(len(values), 1)}] EQ_ALIGN16 = {{\n{_literals(values, ctype)}\n}};"
        )
        self.flash_bytes += values.nbytes
        return name

    def channel_table(self, name: str, rows: tuple[tuple[int, int, int, int], ...]) -> str:
        """A ``static const eq_channel`` array: (bias, mult, shift, round) per output channel."""
        for row in rows:
            _check_int32(name, "channel", list(row))
        body = ",\n".join("    {" + ", ".join(str(int(v)) for v in row) + "}" for row in rows)
        self.decls.append(f"static const eq_channel {name}[{len(rows)}] = {{\n{body}\n}};")
        self.flash_bytes += 16 * len(rows)
        return name

    def int_array(self, name: str, values: list[int]) -> str:
        _check_int32(name, "values", values)
        self.decls.append(
            f"static const int32_t {name}[{max(len(values), 1)}] = {{{', '.join(str(int(v)) for v in values)}}};"
        )
        self.flash_bytes += 4 * len(values)
        return name

    def struct(self, ctype: str, name: str, fields: dict[str, object]) -> str:
        """A ``static const`` parameter struct with designated initializers (every value a literal)."""
        for key, value in fields.items():
            _check_int32(name, key, value)
        body = ", ".join(f".{k} = {_literal(v)}" for k, v in fields.items())
        self.decls.append(f"static const {ctype} {name} = {{{body}}};")
        return name

    def call(self, op_index: int, text: str, comment: str, kernel: str) -> None:
        self.calls.append(f"    /* op {op_index}: {c_comment(comment)} */\n    {text}")
        self.kernels.add(kernel)


def _check_int32(name: str, key: str, value: object) -> None:
    """Every integer of a parameter fits the C ``int32_t`` it initializes (ModelFormatError otherwise).

    engine.validate keeps the model's numbers in range; this is the last line before C is written.
    """
    values = value if isinstance(value, (list, tuple)) else [value]
    for v in values:
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool) and not INT32_MIN <= int(v) <= INT32_MAX:
            raise ModelFormatError(
                f"parameter {name}.{key} of the engine would be {int(v)}, outside C's int32_t; "
                "the model's shapes or quantization are out of range, re-export it with the TFLite converter"
            )


def _literals(values: np.ndarray, ctype: str) -> str:
    items = [repr(float(v)) + "f" for v in values] if ctype == "float" else [str(int(v)) for v in values]
    return "\n".join("    " + ", ".join(items[i : i + 16]) + "," for i in range(0, len(items), 16))


def _literal(v: object) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return repr(v) + "f"
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(_literal(x) for x in v) + "}"
    return str(v)
