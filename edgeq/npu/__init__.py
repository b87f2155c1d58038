"""Arm Ethos-U NPUs: models compiled by Arm's Vela, placement, memory and Vela's performance estimates.

Vela (``pip install 'edgeq[npu]'``) runs as a child process; nothing runs on an
NPU here (no Ethos-U simulator or board), so every cycle, latency and
bandwidth figure is Vela's estimate and says so.
"""

from __future__ import annotations

from edgeq.npu.compile import compile_model
from edgeq.npu.config import ACCELERATORS, memory_modes, system_configs
from edgeq.npu.types import NpuCompilation, NpuOp

__all__ = ["ACCELERATORS", "NpuCompilation", "NpuOp", "compile_model", "memory_modes", "system_configs"]
