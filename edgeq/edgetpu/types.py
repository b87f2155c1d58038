"""What an Edge TPU check reports: one status per operator, the totals, and the compiler-style table."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Status(str, Enum):
    """Where an operator runs, worded like the ``edgetpu_compiler`` operation log.

    The first six values are the compiler's own wording (seen in its logs);
    ``DYNAMIC_SHAPE`` is edgeq's, for a rule the Coral documentation states
    (static tensor sizes) without naming the compiler's message.
    """

    MAPPED = "Mapped to Edge TPU"
    DATA_TYPE = "Operation is working on an unsupported data type"
    RANK = "Tensor has unsupported rank (up to 3 innermost dimensions mapped)"
    NOT_SUPPORTED = "Operation not supported"
    SUBGRAPH = "More than one subgraph is not supported"
    LIMITATION = "Operation is otherwise supported, but not mapped due to some unspecified limitation"
    DYNAMIC_SHAPE = "Tensor has a dynamic size (static shapes only)"


@dataclass(frozen=True)
class OpCheck:
    """The verdict for one operator.

    Attributes:
        index: Execution position (counted across subgraphs for multi-subgraph models).
        op: Builtin name, or the custom code of a custom op.
        status: Where it runs and, if on the CPU, the compiler-style reason.
        reason: edgeq's explanation: the tensor, option or documented rule involved ("" when mapped).
    """

    index: int
    op: str
    status: Status
    reason: str = ""

    @property
    def on_edgetpu(self) -> bool:
        """True when the op runs on the Edge TPU."""
        return self.status is Status.MAPPED

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "index": self.index,
            "op": self.op,
            "status": self.status.value,
            "on_edgetpu": self.on_edgetpu,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class TableRow:
    """One line of the compiler-style table: how many ``op`` share ``status``."""

    op: str
    count: int
    status: Status

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"operator": self.op, "count": self.count, "status": self.status.value}


@dataclass(frozen=True)
class EdgeTpuReport:
    """The result of :func:`edgeq.edgetpu.check_model`.

    Attributes:
        model: The model's path (or ``<bytes>``).
        ops: One verdict per operator, in execution order.
        subgraph_count: Subgraphs in the file (the Edge TPU compiler maps single-subgraph models).
        compiled: True when the model already holds an ``edgetpu-custom-op`` (output of the compiler).
        notes: Model-level remarks (dynamic batch dimension, float inputs, ...).
    """

    model: str
    ops: tuple[OpCheck, ...]
    subgraph_count: int = 1
    compiled: bool = False
    notes: tuple[str, ...] = ()

    @property
    def edgetpu_count(self) -> int:
        """Number of operations that will run on the Edge TPU."""
        return sum(op.on_edgetpu for op in self.ops)

    @property
    def cpu_count(self) -> int:
        """Number of operations that will run on the CPU."""
        return len(self.ops) - self.edgetpu_count

    @property
    def first_cpu_op(self) -> OpCheck | None:
        """The first operator (in execution order) that runs on the CPU, or None."""
        return next((op for op in self.ops if not op.on_edgetpu), None)

    def table(self) -> tuple[TableRow, ...]:
        """Operators grouped by (name, status) in order of first appearance, as the compiler's log lists them."""
        counts: dict[tuple[str, Status], int] = {}
        for op in self.ops:
            counts[(op.op, op.status)] = counts.get((op.op, op.status), 0) + 1
        return tuple(TableRow(name, n, status) for (name, status), n in counts.items())

    def to_dict(self) -> dict[str, Any]:
        """The JSON report; its keys are relied on by other tooling."""
        first = self.first_cpu_op
        return {
            "model": self.model,
            "edgetpu_ops": self.edgetpu_count,
            "cpu_ops": self.cpu_count,
            "total_ops": len(self.ops),
            "fully_mapped": self.cpu_count == 0,
            "first_cpu_op": None if first is None else first.index,
            "subgraph_count": self.subgraph_count,
            "compiled": self.compiled,
            "operators": [row.to_dict() for row in self.table()],
            "ops": [op.to_dict() for op in self.ops],
            "notes": list(self.notes),
        }
