"""The report of ``edgeq generate``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class GenerationReport:
    """What was generated and what it costs on the target.

    Attributes:
        format: carray, tflm (later: engine).
        name: the C identifier used for every symbol.
        model: the source .tflite.
        out_dir: the folder written.
        files: generated file names, relative to ``out_dir``.
        flash_bytes: bytes of the model array in flash.
        arena_bytes: the tensor arena constant written (margin included), or None.
        arena_measured_bytes: the arena a 32-bit TFLM build needs (modeled from the host interpreter's
            measurement, the larger of reference kernels and CMSIS-NN), without margin.
        arena_how: how the arena was measured and modeled.
        ops: the model's ops, in first-use order.
        resolver_methods: TFLM resolver methods registered (tflm format).
        board: the board checked against, or None.
        fit_problems: why the model does not fit the board (empty when it fits).
        arena_lower_bound_bytes: engine only: the largest set of tensors alive at once.
        flash_how: engine only: what flash_bytes counts.
        board_check: engine with a board only: the totals checked against it (the firmware edgeq build
            links, or the engine alone where edgeq build makes no firmware), their limits and what they count.
        scratch_bytes: engine only: the largest kernel scratch region in the arena (regions of different
            ops share bytes; arena_bytes includes them).
        schedule: engine only: the --optimize mode, --ram-budget, the arena cap the kernels were chosen
            under, the smallest arena the model can run in, and per op with scratch its kernel variant and
            scratch bytes (codegen.engine.schedule).
        static_ram_bytes: engine only: writable RAM outside the arena (an LSTM's hidden and cell state,
            kept from one inference to the next, and its gate buffers); 0 for most models.
        arena_figures: tflm and carray with a board: the figures behind the arena constant (method, the
            64-bit host measurement and its own constant, the reference-kernel and CMSIS-NN figures).
        constants: engine only: its constant bytes in flash by what they hold (weights, biases, per-channel
            requantization, other), the output channels and the bias and requantization bytes per channel
            (codegen.engine.build.Constants).
    """

    format: str
    name: str
    model: str
    out_dir: str
    files: tuple[str, ...]
    flash_bytes: int
    arena_bytes: int | None
    arena_measured_bytes: int | None
    arena_how: str | None
    ops: tuple[str, ...]
    resolver_methods: tuple[str, ...] = ()
    board: str | None = None
    fit_problems: tuple[str, ...] = field(default=())
    arena_lower_bound_bytes: int | None = None
    flash_how: str | None = None
    board_check: dict[str, Any] | None = None
    scratch_bytes: int | None = None
    schedule: dict[str, Any] | None = None
    arena_figures: dict[str, Any] | None = None
    static_ram_bytes: int | None = None
    constants: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
