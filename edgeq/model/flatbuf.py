"""A minimal, bounds-checked reader for flatbuffer tables (for untrusted files).

Flatbuffer layout, as far as edgeq needs it (all little-endian):

- the buffer starts with a ``uint32`` offset to the root table;
- a table starts with an ``int32`` that, subtracted from the table position,
  gives its vtable: ``uint16`` vtable size, ``uint16`` table size, then one
  ``uint16`` per field slot (0 = field absent, else the field's offset in the table);
- a reference field (table, vector, string) holds a ``uint32`` offset, relative
  to the field itself, to its target;
- a vector or string is a ``uint32`` element count followed by the elements; a
  vector of tables holds one relative ``uint32`` offset per element.

Every position and length is checked against the buffer before use and any
violation raises :class:`~edgeq.errors.ModelFormatError`. Reference offsets are
unsigned, so following them only moves forward and cannot loop. A read budget
(about twice the file size) stops crafted files whose many references point at
one large vector from making the reader do quadratic work or allocate gigabytes.
"""

from __future__ import annotations

import struct
from typing import Any, NoReturn

from edgeq.errors import ModelFormatError

_SIZES = {fmt: struct.calcsize("<" + fmt) for fmt in "bBhHiIqQf?d"}


class FlatBuffer:
    """An immutable byte buffer with checked reads.

    Args:
        data: The whole flatbuffer.
        name: How error messages name the buffer (usually the file path).
        budget: Bytes of vectors and strings the reader may decode in total;
            defaults to ``2 * len(data) + 64 KiB``.
    """

    __slots__ = ("data", "name", "size", "_budget")

    def __init__(self, data: bytes, name: str, budget: int | None = None) -> None:
        self.data = data
        self.name = name
        self.size = len(data)
        self._budget = 2 * self.size + 65536 if budget is None else budget

    def fail(self, detail: str) -> NoReturn:
        """Raise the one-line error for a corrupt or truncated buffer."""
        raise ModelFormatError(f"{self.name} is corrupt or truncated ({detail}); re-export or re-download the model")

    def check(self, pos: int, length: int) -> None:
        """Fail unless ``length`` bytes at ``pos`` lie inside the buffer."""
        if pos < 0 or length < 0 or pos + length > self.size:
            self.fail(f"{length} bytes at offset {pos} lie outside the {self.size}-byte file")

    def read(self, fmt: str, pos: int) -> Any:
        """Read one little-endian scalar of struct format ``fmt`` at ``pos``."""
        self.check(pos, _SIZES[fmt])
        return struct.unpack_from("<" + fmt, self.data, pos)[0]

    def charge(self, nbytes: int) -> None:
        """Spend ``nbytes`` of the read budget, failing when it runs out."""
        self._budget -= nbytes
        if self._budget < 0:
            self.fail(f"its offsets reference more data than the {self.size}-byte file holds")

    def root(self) -> Table:
        """The root table, whose offset is the first four bytes."""
        return self.table_at(self.read("I", 0))

    def table_at(self, pos: int) -> Table:
        """The table starting at ``pos``, after checking it and its vtable."""
        vtable = pos - self.read("i", pos)
        vt_size = self.read("H", vtable)
        if vt_size < 4 or vt_size % 2:
            self.fail(f"table at offset {pos} has a bad vtable size {vt_size}")
        self.check(vtable, vt_size)
        self.check(pos, self.read("H", vtable + 2))
        return Table(self, pos, vtable, (vt_size - 4) // 2)

    def vector_at(self, pos: int, elem_size: int) -> tuple[int, int]:
        """``(first element position, element count)`` of the vector at ``pos``, checked."""
        count = self.read("I", pos)
        start = pos + 4
        if count * elem_size > self.size - start:
            self.fail(f"vector at offset {pos} claims {count} elements, past the end of the file")
        self.charge(count * elem_size)
        return start, count

    def region(self, start: int, length: int) -> bytes:
        """A copy of ``length`` bytes at ``start``, checked and charged to the budget."""
        self.check(start, length)
        self.charge(length)
        return self.data[start : start + length]


class Table:
    """One flatbuffer table: read its fields by slot number.

    Absent fields give the caller's default, as the flatbuffer format specifies.
    """

    __slots__ = ("fb", "pos", "_vtable", "_nslots")

    def __init__(self, fb: FlatBuffer, pos: int, vtable: int, nslots: int) -> None:
        self.fb = fb
        self.pos = pos
        self._vtable = vtable
        self._nslots = nslots

    def field(self, slot: int) -> int | None:
        """Absolute position of field ``slot``, or None when the field is absent."""
        if slot >= self._nslots:
            return None
        offset = self.fb.read("H", self._vtable + 4 + 2 * slot)
        return self.pos + offset if offset else None

    def has(self, slot: int) -> bool:
        """Whether field ``slot`` is present."""
        return self.field(slot) is not None

    def scalar(self, slot: int, fmt: str, default: Any = 0) -> Any:
        """A scalar field (struct format ``fmt``), or ``default`` when absent."""
        pos = self.field(slot)
        return default if pos is None else self.fb.read(fmt, pos)

    def target(self, slot: int) -> int | None:
        """Where the reference field ``slot`` points, or None when absent."""
        pos = self.field(slot)
        return None if pos is None else pos + self.fb.read("I", pos)

    def table(self, slot: int) -> Table | None:
        """The sub-table in field ``slot``, or None when absent."""
        pos = self.target(slot)
        return None if pos is None else self.fb.table_at(pos)

    def vector(self, slot: int, fmt: str, default: Any = ()) -> Any:
        """A vector of scalars as a tuple, or ``default`` when absent."""
        pos = self.target(slot)
        if pos is None:
            return default
        start, count = self.fb.vector_at(pos, _SIZES[fmt])
        return struct.unpack_from(f"<{count}{fmt}", self.fb.data, start)

    def tables(self, slot: int) -> list[Table]:
        """A vector of tables (empty when absent)."""
        pos = self.target(slot)
        if pos is None:
            return []
        start, count = self.fb.vector_at(pos, 4)
        offsets = struct.unpack_from(f"<{count}I", self.fb.data, start)
        return [self.fb.table_at(start + 4 * i + off) for i, off in enumerate(offsets)]

    def bytes(self, slot: int) -> bytes | None:
        """A ``[ubyte]`` vector as bytes, or None when absent."""
        pos = self.target(slot)
        if pos is None:
            return None
        start, count = self.fb.vector_at(pos, 1)
        return self.fb.data[start : start + count]

    def string(self, slot: int) -> str | None:
        """A string field (UTF-8, undecodable bytes replaced), or None when absent."""
        raw = self.bytes(slot)
        return None if raw is None else raw.decode("utf-8", errors="replace")
