"""Collects the C of one engine: constant arrays, parameter structs, tensor pointers and kernel calls.

The C it writes reads like hand-written C and is left unchanged by clang-format
with the repository's ``.clang-format`` (tests/codegen/test_engine_style.py):

- every static name starts with the engine's C name (``ident``), then says what
  it is: ``net_op6_params``, ``net_op6_conv_weights``, ``net_op6_channels``;
- every tensor of the arena has one named pointer, declared once
  (``static int8_t *const net_t12_conv2d_1 = (int8_t *)(net_arena + 2816);``)
  and used by name in the call sequence;
- parameter structs use designated initializers, one field a line;
- no line is longer than LINE_LIMIT; long calls wrap after their opening
  parenthesis as clang-format wraps them; the value tables of constant arrays
  (16 values a line) and the per-channel tables (one channel a line) stay
  between ``clang-format off/on`` markers, as written.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np

from edgeq.codegen.cgen import c_comment
from edgeq.codegen.engine.scratch import scratch_key
from edgeq.errors import ModelFormatError
from edgeq.model import Graph, Tensor
from edgeq.model.graph import NUMPY_DTYPES

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
CTYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t", "float32": "float"}
LINE_LIMIT = 120  # the ColumnLimit of .clang-format
INDENT = "    "
MAX_NAME = 40  # a tensor pointer gets a label from the tensor's name only while its name stays this short
_LABEL_MAX = 24
# Around value tables (weights, per-channel rows): clang-format would re-pack them into aligned columns.
_FORMAT_OFF, _FORMAT_ON = "/* clang-format off */", "/* clang-format on */"


@dataclass
class Emitter:
    """Accumulates declarations and calls; knows the arena offsets of every tensor."""

    graph: Graph
    ident: str  # the engine's C name: every static it declares starts with it
    offsets: dict[int, int]
    block_cols: dict[int, int] = field(default_factory=dict)  # op index -> CONV_2D block columns (else 8)
    variants: dict[int, str] = field(default_factory=dict)  # op index -> kernel variant (engine.schedule)
    scratch_bytes: dict[int, int] = field(default_factory=dict)  # scratch key -> bytes of the region
    decls: list[str] = field(default_factory=list)
    pointers: list[str] = field(default_factory=list)  # one named pointer per arena tensor or scratch region used
    calls: list[str] = field(default_factory=list)
    flash_bytes: int = 0
    static_ram_bytes: int = 0  # writable statics outside the arena (an LSTM's state and gate buffers)
    kernels: set[str] = field(default_factory=set)
    flash_parts: dict[str, int] = field(default_factory=dict)  # role -> bytes of constants (engine.build.Constants)
    channel_rows: int = 0  # eq_channel rows written (one per output channel of a conv or FC)
    prelude: list[str] = field(default_factory=list)  # statements the next call runs first (int4 unpacking)
    _consts: dict[object, str] = field(default_factory=dict)
    _pointer_names: dict[object, str] = field(default_factory=dict)

    @property
    def arena(self) -> str:
        """The C name of the arena array."""
        return f"{self.ident}_arena"

    def name(self, op_index: int, what: str) -> str:
        """The C name of something of op ``op_index``: ``{ident}_op{N}_{what}``."""
        return f"{self.ident}_op{op_index}_{what}"

    def ptr(self, t: int) -> str:
        """The named pointer to tensor ``t``'s buffer in the arena, typed by its dtype (declared on first use)."""
        if t not in self._pointer_names:
            tensor = self.graph.tensors[t]
            ctype = CTYPES[tensor.dtype]
            name = f"{self.ident}_t{t}"
            label = tensor_label(tensor.name)
            if label and len(name) + 1 + len(label) <= MAX_NAME:
                name = f"{name}_{label}"
            self.pointers.append(
                _definition(f"static {ctype} *const {name}", f"({ctype} *)({self.arena} + {self.offsets[t]})")
            )
            self._pointer_names[t] = name
        return self._pointer_names[t]

    def scratch(self, op_index: int, skip: int = 0, what: str = "scratch", ctype: str = "void") -> str:
        """The named pointer to op ``op_index``'s scratch region in the arena (engine.scratch), or NULL.

        ``skip``: bytes of the region before the pointer (an int4 op's unpacked weights come first, ``what``
        ``"weights"`` and ``ctype`` their C type, then the kernel's scratch); NULL when nothing follows them.
        """
        key = scratch_key(op_index)
        offset = self.offsets.get(key)
        if offset is None or (skip and what == "scratch" and self._region_end(key) <= offset + skip):
            return "NULL"
        if (key, what) not in self._pointer_names:
            name = self.name(op_index, what)
            value = (
                f"{self.arena} + {offset + skip}" if ctype == "void" else f"({ctype} *)({self.arena} + {offset + skip})"
            )
            self.pointers.append(_definition(f"static {ctype} *const {name}", value))
            self._pointer_names[(key, what)] = name
        return self._pointer_names[(key, what)]

    def _region_end(self, key: int) -> int:
        return self.offsets[key] + self.scratch_bytes.get(key, 0)

    def const_tensor(self, tensor: Tensor, name: str, tail: int = 0, role: str = "other") -> str:
        """A ``static const`` array holding a constant tensor (emitted once, as ``name``), 16-byte aligned.

        ``tail``: zero bytes after the data, for kernels that read a little past the end.
        """
        if tensor.index in self._consts:
            return self._consts[tensor.index]
        data = (tensor.data or b"") + bytes(tail)
        values = np.frombuffer(data, dtype=NUMPY_DTYPES[tensor.dtype])
        padded = f" + {tail} zero bytes read past the end" if tail else ""
        self._data_array(name, values, CTYPES[tensor.dtype], tensor.name, f" {list(tensor.shape)}{padded}")
        self.add_flash(role, len(data))
        self._consts[tensor.index] = name
        return name

    def const_array(
        self, key: Hashable, name: str, values: np.ndarray, comment: str, tail: int = 0, role: str = "other"
    ) -> str:
        """A ``static const`` array of ``values`` (int8, uint8 or int16), 16-byte aligned, ``tail`` zero bytes after.

        Emitted once per ``key`` (e.g. a weight tensor in one layout), as ``name``; later uses get that name.
        """
        if key in self._consts:
            return self._consts[key]
        values = np.concatenate([values.reshape(-1), np.zeros(-(-tail // values.itemsize), values.dtype)])
        self._data_array(name, values, CTYPES[str(values.dtype)], comment, "")
        self.add_flash(role, values.nbytes)
        self._consts[key] = name
        return name

    def channel_table(self, name: str, rows: tuple[tuple[int, int, int, int], ...]) -> str:
        """A ``static const eq_channel`` array: (bias, mult, shift, round) per output channel."""
        for row in rows:
            _check_int32(name, "channel", list(row))
        body = "\n".join(INDENT + "{" + ", ".join(str(int(v)) for v in row) + "}," for row in rows)
        self.decls.append(f"{_FORMAT_OFF}\nstatic const eq_channel {name}[{len(rows)}] = {{\n{body}\n}};\n{_FORMAT_ON}")
        self.add_flash("biases", 4 * len(rows))  # eq_channel: int32 bias, then mult, shift, round
        self.add_flash("requant", 12 * len(rows))
        self.channel_rows += len(rows)
        return name

    def compact_channels(self, prefix: str, columns: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[str, ...]:
        """An int4 op's channel parameters: ``{prefix}_bias``, ``_mult`` (int32) and ``_shift`` (int8) arrays.

        9 bytes a channel in flash (engine.int4.compact_rows), expanded into ``eq_channel`` rows at run time.
        """
        names = []
        for what, values, role in zip(("bias", "mult", "shift"), columns, ("biases", "requant", "requant")):
            names.append(f"{prefix}_{what}")
            self._data_array(names[-1], values, CTYPES[str(values.dtype)], "", "", aligned=False)
            self.add_flash(role, values.nbytes)
        self.channel_rows += len(columns[0])
        return tuple(names)

    def int_array(self, name: str, values: list[int]) -> str:
        _check_int32(name, "values", values)
        line = f"static const int32_t {name}[{max(len(values), 1)}] = {{{', '.join(str(int(v)) for v in values)}}};"
        if len(line) <= LINE_LIMIT:
            self.decls.append(line)
        else:
            self._data_array(name, np.asarray(values, np.int32), "int32_t", "", "", aligned=False)
        self.add_flash("other", 4 * len(values))
        return name

    def add_flash(self, role: str, nbytes: int) -> None:
        """Count ``nbytes`` of constants in flash under ``role`` (weights, biases, requant, other)."""
        self.flash_bytes += nbytes
        self.flash_parts[role] = self.flash_parts.get(role, 0) + nbytes

    def struct(self, ctype: str, name: str, fields: Mapping[str, object]) -> str:
        """A ``static const`` parameter struct: designated initializers, one field a line (every value a literal)."""
        for key, value in fields.items():
            _check_int32(name, key, value)
        body = "".join(f"{INDENT}.{k} = {_literal(v)},\n" for k, v in fields.items())
        self.decls.append(f"static const {ctype} {name} = {{\n{body}}};")
        return name

    def call(self, op_index: int, kernel: str, args: list[str], comment: str, source: str) -> None:
        """One kernel call ``kernel(args...);`` of op ``op_index``, from the kernel file ``source``.

        After ``prelude`` statements (an int4 op's unpacking), the call and they form one braced block.
        """
        if self.prelude:
            lines, self.prelude = [*self.prelude, wrap_call(INDENT * 2, kernel, args)], []
            self.block(op_index, lines, comment, source)
            return
        self.calls.append(f"{INDENT}/* op {op_index}: {c_comment(comment)} */\n{wrap_call(INDENT, kernel, args)}")
        self.kernels.add(source)

    def block(self, op_index: int, lines: list[str], comment: str, source: str) -> None:
        """A braced block of statements for op ``op_index`` (``lines`` formatted and indented two levels)."""
        body = "\n".join(lines)
        self.calls.append(f"{INDENT}/* op {op_index}: {c_comment(comment)} */\n{INDENT}{{\n{body}\n{INDENT}}}")
        self.kernels.add(source)

    def _data_array(
        self, name: str, values: np.ndarray, ctype: str, what: str, suffix: str, aligned: bool = True
    ) -> None:
        """A constant table: a comment naming it, then its values 16 a line, kept as written by clang-format."""
        if what:
            room = LINE_LIMIT - len("/*  */") - len(suffix)
            self.decls.append(f"/* {c_comment(what)[:room]}{suffix} */")
        align = " EQ_ALIGN16" if aligned else ""
        self.decls.append(
            f"{_FORMAT_OFF}\n"
            f"static const {ctype} {name}[{max(len(values), 1)}]{align} = {{\n{_literals(values, ctype)}\n}};\n"
            f"{_FORMAT_ON}"
        )


def tensor_label(name: str) -> str:
    """A short C-safe label from a TFLite tensor name (its layer), or "" when nothing short and useful is there.

    ``"model_1/conv2d_3/Relu;model_1/conv2d_3/BiasAdd"`` -> ``"conv2d_3"``; ``"serving_default_image:0"`` -> ``"image"``.
    """
    first = name.split(";")[0].split(":")[0]
    parts = [p for p in first.split("/") if p]
    if not parts:
        return ""
    label = parts[-2] if len(parts) >= 2 else parts[-1]
    label = label.removeprefix("serving_default_")
    if label.startswith("StatefulPartitionedCall"):
        return ""
    label = re.sub(r"_+", "_", re.sub(r"[^0-9a-z]", "_", label.lower())).strip("_")
    return label if 0 < len(label) <= _LABEL_MAX else ""


def wrap_call(indent: str, function: str, args: list[str]) -> str:
    """``function(args...);`` at ``indent``, wrapped as clang-format wraps it when longer than a line.

    Arguments are packed, aligned after ``(``; when breaking right after ``(`` (continuation indent)
    takes fewer lines, clang-format does that instead, and so does this.
    """
    line = f"{indent}{function}({', '.join(args)});"
    if len(line) <= LINE_LIMIT:
        return line
    aligned = _pack(f"{indent}{function}(", " " * len(f"{indent}{function}("), args)
    broken = [f"{indent}{function}(", *_pack(indent + INDENT, indent + INDENT, args)]
    return "\n".join(broken if len(broken) < len(aligned) else aligned)


def wrap_braced(start: str, items: list[str]) -> str:
    """``start{items...};`` (``start`` ends with ``{``), packed and aligned after the brace when longer than a line."""
    return "\n".join(_pack(start, " " * len(start), items, "};"))


def _pack(first: str, prefix: str, args: list[str], close: str = ");") -> list[str]:
    """``args`` (the last followed by ``close``) packed into lines: the first starts with ``first``, the others ``prefix``."""
    lines, current, fresh = [], first, True
    for i, arg in enumerate(args):
        piece = arg + (close if i == len(args) - 1 else ",")
        if not fresh and len(current) + 1 + len(piece) > LINE_LIMIT:
            lines.append(current)
            current, fresh = prefix, True
        current += piece if fresh else " " + piece
        fresh = False
    return [*lines, current]


def _definition(declarator: str, value: str) -> str:
    """``declarator = value;``, broken after ``=`` (continuation indented) when longer than a line, as clang-format does."""
    line = f"{declarator} = {value};"
    return line if len(line) <= LINE_LIMIT else f"{declarator} =\n{INDENT}{value};"


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
    return "\n".join(INDENT + ", ".join(items[i : i + 16]) + "," for i in range(0, len(items), 16))


def _literal(v: object) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return repr(v) + "f"
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(_literal(x) for x in v) + "}"
    return str(v)
