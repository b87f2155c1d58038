"""``edgeq skeleton --kind px4``: a compiled engine as a PX4 autopilot module.

The folder is an ``EXTERNAL_MODULES_LOCATION`` for PX4's build (its parts can
also be copied into a PX4 tree)::

    OUT/README.md
    OUT/msg/CMakeLists.txt, EdgeqInput.msg, EdgeqOutput.msg   the uORB messages (sized for the engine)
    OUT/src/CMakeLists.txt                                     the out-of-tree module list
    OUT/src/modules/edgeq_NAME/
        NAME.c/.h, edgeq_*.c/.h        the engine, copied unchanged
        edgeq_px4_infer.c/.h           portable C: float input -> quantize -> engine -> dequantize -> top-1
        edgeq_module.cpp/.hpp          the PX4 layer: a work item between uORB and edgeq_px4_infer()
        CMakeLists.txt, Kconfig, module.yaml

Unlike the Arduino, ESP-IDF and Zephyr skeletons (:mod:`.skeletons`), it does
not serve the MLPerf Tiny protocol: its input and output are uORB topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeq import __version__
from edgeq.errors import UnsupportedError
from edgeq.firmware.glue import C_TYPES, engine_files
from edgeq.firmware.manifest import EngineManifest
from edgeq.render import render, template_bytes

SDK = "PX4"
BUILD = "make px4_fmu-v6x_default EXTERNAL_MODULES_LOCATION={folder}"
PORTABLE_C = "edgeq_px4_infer.c"
PORTABLE_H = "edgeq_px4_infer.h"
MODULE_CPP = "edgeq_module.cpp"
MODULE_HPP = "edgeq_module.hpp"
# Flags of the module's C sources, added after PX4's own (CMakeLists.txt): IEEE float arithmetic, as tested, and
# no -Wcast-align (the engine reads float tensors through casts of its byte arena, which it aligns).
C_FLAGS = ("-fno-unsafe-math-optimizations", "-ffp-contract=off", "-Wno-cast-align")
# Input dtypes edgeq_px4_infer() quantizes float values into: (C type, lowest, highest).
INPUT_RANGES = {"int8": ("int8_t", -128, 127), "uint8": ("uint8_t", 0, 255), "int16": ("int16_t", -32768, 32767)}


@dataclass(frozen=True)
class Px4Layout:
    """Where the PX4 skeleton for one engine puts things (paths relative to the output folder)."""

    module: str  # the module's name: its folder, its MAIN and its shell command
    src: str  # the module folder
    sources: tuple[str, ...]  # the C/C++ files in src, the PX4 layer last
    platform: str  # the PX4 layer
    entry: str  # the file with the entry point (<module>_main)


def px4_layout(engine: EngineManifest) -> Px4Layout:
    """The layout for ``engine``; UnsupportedError for an input dtype the module cannot quantize into."""
    bad = [t.dtype for t in engine.inputs if t.dtype not in (*INPUT_RANGES, "float32")]
    if bad:
        raise UnsupportedError(
            f"engine {engine.name} has a {bad[0]} input; the PX4 module fills inputs of "
            f"{', '.join((*INPUT_RANGES, 'float32'))} from float values"
        )
    module = f"edgeq_{engine.name}"
    src = f"src/modules/{module}"
    return Px4Layout(
        module=module,
        src=src,
        sources=(*engine.sources, PORTABLE_C, MODULE_CPP),
        platform=f"{src}/{MODULE_CPP}",
        entry=f"{src}/{MODULE_CPP}",
    )


def px4_files(engine_dir: Path, engine: EngineManifest, dirname: str) -> dict[str, str | bytes]:
    """Every file of the PX4 skeleton for the engine in ``engine_dir``, by its path in a folder named ``dirname``."""
    layout = px4_layout(engine)
    context = _context(engine, layout, dirname)
    src = layout.src
    files: dict[str, str | bytes] = {f"{src}/{name}": data for name, data in engine_files(engine_dir).items()}
    files[f"{src}/{MODULE_CPP}"] = template_bytes(f"px4/{MODULE_CPP}")
    files[f"{src}/{MODULE_HPP}"] = template_bytes(f"px4/{MODULE_HPP}")
    files["msg/CMakeLists.txt"] = template_bytes("px4/msg_CMakeLists.txt")
    rendered = {
        f"{src}/{PORTABLE_C}": f"{PORTABLE_C}.j2",
        f"{src}/{PORTABLE_H}": f"{PORTABLE_H}.j2",
        f"{src}/CMakeLists.txt": "CMakeLists.txt.j2",
        f"{src}/Kconfig": "Kconfig.j2",
        f"{src}/module.yaml": "module.yaml.j2",
        "msg/EdgeqInput.msg": "EdgeqInput.msg.j2",
        "msg/EdgeqOutput.msg": "EdgeqOutput.msg.j2",
        "src/CMakeLists.txt": "src_CMakeLists.txt.j2",
        "README.md": "README.md.j2",
    }
    for path, template in rendered.items():
        files[path] = render(f"px4/{template}", **context)
    return files


def is_classifier(engine: EngineManifest) -> bool:
    """Output 0 is one score per class: more than one element along exactly one axis, and no MSE result."""
    out = engine.outputs[0]
    return not engine.results_are_mse and out.elements > 1 and sum(1 for d in out.shape if d > 1) == 1


def _context(engine: EngineManifest, layout: Px4Layout, dirname: str) -> dict[str, Any]:
    inputs = _tensors(engine, "INPUT")
    outputs = _tensors(engine, "OUTPUT")
    return {
        "e": engine,
        "sk": {"dirname": dirname},
        "module": layout.module,
        "inputs": inputs,
        "outputs": outputs,
        "input_values": sum(t["elements"] for t in inputs),
        "output_values": sum(t["elements"] for t in outputs),
        "classifier": is_classifier(engine),
        "c_sources": (*engine.sources, PORTABLE_C),
        "c_flags": C_FLAGS,
        "edgeq_version": __version__,
    }


def _tensors(engine: EngineManifest, kind: str) -> list[dict[str, Any]]:
    """Each input or output (``kind``) as the templates use it: C type, offset in the float values, range, and the
    scale and zero point as the engine header's macros (NAME_INPUT0_SCALE, ...)."""
    out, offset = [], 0
    for i, t in enumerate(engine.inputs if kind == "INPUT" else engine.outputs):
        quantized = bool(t.scale) and t.dtype != "float32"  # the header defines the macros for a nonzero scale
        ctype, lo, hi = INPUT_RANGES.get(t.dtype, (C_TYPES[t.dtype], 0, 0))
        macro = f"{engine.macro}_{kind}{i}"
        out.append(
            {
                "index": i,
                "shape": t.shape,
                "dtype": t.dtype,
                "elements": t.elements,
                "offset": offset,
                "ctype": ctype,
                "lo": lo,
                "hi": hi,
                "quantized": quantized,
                "scale": t.scale,
                "zero_point": t.zero_point,
                "scale_c": f"{macro}_SCALE" if quantized else "1.0f",
                "zero_point_c": f"{macro}_ZERO_POINT" if quantized else "0",
                "wide": "int64_t" if t.dtype == "int32" else "int32_t",
            }
        )
        offset += t.elements
    return out
