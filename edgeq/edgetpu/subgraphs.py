"""Operator names of every subgraph, for models :func:`edgeq.model.read_model` refuses (control flow).

``read_model`` reads single-subgraph models only. The Edge TPU compiler maps
single-subgraph models too, so for a multi-subgraph file the check needs no
more than each operator's name; this reads just that, with the same
bounds-checked flatbuffer reader.
"""

from __future__ import annotations

from edgeq.errors import ModelFormatError
from edgeq.model.flatbuf import FlatBuffer, Table
from edgeq.model.schema import (
    CUSTOM,
    FILE_IDENTIFIER,
    ModelSlot,
    OperatorCodeSlot,
    OperatorSlot,
    SubGraphSlot,
    builtin_name,
)


def subgraph_op_names(data: bytes, name: str) -> list[list[str]] | None:
    """Operator names per subgraph, or None when ``data`` cannot be read that far.

    Args:
        data: The model file's bytes.
        name: How error messages name the model.
    """
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        return None
    try:
        model = FlatBuffer(data, name).root()
        codes = [_opcode_name(t) for t in model.tables(ModelSlot.OPERATOR_CODES)]
        return [_op_names(sub, codes) for sub in model.tables(ModelSlot.SUBGRAPHS)]
    except ModelFormatError:
        return None


def _opcode_name(table: Table) -> str:
    deprecated = table.scalar(OperatorCodeSlot.DEPRECATED_BUILTIN_CODE, "b", 0)
    code = max(deprecated, table.scalar(OperatorCodeSlot.BUILTIN_CODE, "i", 0))
    if code == CUSTOM:
        return table.string(OperatorCodeSlot.CUSTOM_CODE) or "CUSTOM"
    return builtin_name(code)


def _op_names(subgraph: Table, codes: list[str]) -> list[str]:
    names = []
    for op in subgraph.tables(SubGraphSlot.OPERATORS):
        index = op.scalar(OperatorSlot.OPCODE_INDEX, "I", 0)
        names.append(codes[index] if index < len(codes) else f"UNKNOWN_OPCODE_{index}")
    return names
