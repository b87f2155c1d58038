"""``compile_model``: an int8/int16 .tflite compiled by Vela for one Ethos-U configuration, read into data."""

from __future__ import annotations

from edgeq.errors import ConversionError, EdgeqError, UsageError
from edgeq.model import Graph, read_model
from edgeq.model.graph import activation_dtypes
from edgeq.npu.config import NpuConfig, resolve
from edgeq.npu.placement import place_ops, unused_rejections
from edgeq.npu.types import NpuCompilation
from edgeq.npu.vela import VelaOutput, area_bytes, number, run_vela

QUANTIZED = {"int8", "int16", "uint8"}


def compile_model(
    model: bytes,
    accelerator: str,
    *,
    system_config: str | None = None,
    memory_mode: str | None = None,
    name: str | None = None,
) -> NpuCompilation:
    """Compile ``model`` (the bytes of a .tflite) with Vela for ``accelerator``; placement, memory, estimates.

    ``system_config`` and ``memory_mode`` name sections of Vela's ``vela.ini`` (default: Vela's own
    defaults for the accelerator, see :mod:`edgeq.npu.config`); ``name`` is how errors name the model.
    Every figure is Vela's estimate: nothing runs on an NPU.

    Raises:
        ModelFormatError: ``model`` is not a readable .tflite.
        UsageError: A float model, an unknown accelerator, system config or memory mode.
        DependencyError: Vela is not installed.
        ConversionError: Vela failed (its last error line).
    """
    graph = read_model(model, name=name)
    config = resolve(accelerator, system_config, memory_mode)
    check_quantized(graph)
    output = run_vela(model, config)
    try:
        compiled = read_model(output.compiled, name=f"<{accelerator} compilation>")
    except EdgeqError as exc:
        raise ConversionError(f"Vela's output for {accelerator} cannot be read: {exc}") from None
    return _compilation(graph, compiled, output, config)


def check_quantized(graph: Graph) -> None:
    """UsageError for a float model: no op works on int8/int16 data, the only data the Ethos-U NPU computes on."""
    body = [op for op in graph.operators if op.builtin not in ("QUANTIZE", "DEQUANTIZE")]
    if body and not any(set(activation_dtypes(graph, op)) & QUANTIZED for op in body):
        what = "the model" if graph.name == "<bytes>" else graph.name
        raise UsageError(
            f"{what} is a float model; the Ethos-U NPU runs int8/int16 models (Vela): "
            "convert it with edgeq convert first"
        )


def _compilation(graph: Graph, compiled: Graph, output: VelaOutput, config: NpuConfig) -> NpuCompilation:
    summary = output.summary
    moved, used = area_bytes(summary)
    flash_area = next((a for a in used if a != "SRAM"), "Off-chip Flash")
    cycles = int(number(summary, "cycles_total"))
    macs = int(number(summary, "nn_macs"))
    ops = place_ops(graph, compiled, output.rejections, config.accelerator)
    return NpuCompilation(
        accelerator=config.accelerator,
        system_config=config.system_config,
        memory_mode=config.memory_mode,
        npu_clock_hz=config.npu_clock_hz,
        ops=ops,
        sram_bytes=used.get("SRAM", 0),
        flash_bytes=used.get(flash_area, 0),
        npu_cycles=cycles,
        latency_s=cycles / config.npu_clock_hz,
        macs=macs,
        macs_per_cycle=macs / cycles if cycles else 0.0,
        bandwidth=moved,
        compiled=output.compiled,
        flash_area=flash_area,
        vela_version=output.version,
        notes=unused_rejections(graph, ops, output.rejections),
        macs_by_op=dict(output.macs_by_op),
    )
