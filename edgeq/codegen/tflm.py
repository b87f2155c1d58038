"""``--format tflm``: a folder to drop into a TensorFlow Lite Micro build.

Holds the C array files, the op resolver with exactly the model's ops, the
arena size (modeled for a 32-bit target from the host measurement, with the
host figure for 64-bit builds; ``edgeq.codegen.arena``), a ``main.cc``
speaking the MLPerf Tiny serial protocol on top of TFLM, the shared protocol
sources, the platform layer and a README.
"""

from __future__ import annotations

from edgeq.codegen.arena import ArenaMeasurement
from edgeq.codegen.context import ModelContext, results_are_mse
from edgeq.codegen.tflm_ops import check_tflm_buffers, resolver_methods
from edgeq.model import Graph
from edgeq.render import render, template_bytes

# Copied unchanged from edgeq/firmware/templates/common: the protocol, written once in C for every firmware.
SHARED_SOURCES = ("common/edgeq_dut.h", "common/edgeq_dut.c", "common/edgeq_platform.h")


def tflm_methods(graph: Graph) -> list[str]:
    """Resolver methods of the model's ops; UnsupportedError lists ops TFLM lacks (or data it cannot read)."""
    methods = resolver_methods((op.builtin, op.custom_code) for op in graph.operators)
    check_tflm_buffers(graph, "use --format engine")
    return methods


def tflm_files(
    ctx: ModelContext, methods: list[str], arena: ArenaMeasurement, carray: dict[str, str]
) -> dict[str, str | bytes]:
    """{file name: content} of the whole TFLM folder (``carray`` holds the C array files)."""
    files: dict[str, str | bytes] = dict(carray)
    files[f"{ctx.ident}_ops.h"] = render("tflm/ops.h.j2", m=ctx, methods=methods)
    files[f"{ctx.ident}_arena.h"] = render("tflm/arena.h.j2", m=ctx, arena=arena)
    files["main.cc"] = render("tflm/main.cc.j2", m=ctx, results_are_mse=results_are_mse(ctx))
    files["platform.cc"] = render("tflm/platform.cc.j2", m=ctx)
    for source in SHARED_SOURCES:
        files[source.split("/")[-1]] = template_bytes(source)
    files["README.md"] = render("tflm/README.md.j2", m=ctx, arena=arena, methods=methods, files=sorted(files))
    return files
