"""Project skeletons for an SDK's own toolchain: an Arduino sketch, an ESP-IDF project, a Zephyr application, a PX4 module.

Each takes a compiled engine (``edgeq generate MODEL --format engine``) to that
ecosystem with the same portable C as ``edgeq build``'s bare-metal firmware
(engine, MLPerf Tiny protocol, engine glue: :mod:`.glue`) plus a board layer
in the SDK's API and the SDK's build files::

    arduino   OUT/OUT.ino, OUT/src/                    (arduino-cli compile)
    esp-idf   OUT/CMakeLists.txt, OUT/main/, OUT/components/edgeq_NAME/   (idf.py build)
    zephyr    OUT/CMakeLists.txt, OUT/prj.conf, OUT/src/                  (west build)

edgeq does not build them (the SDKs are not part of its toolchain); each
folder's README.md says how. ``px4`` (:mod:`.skeleton_px4`) is the odd one out:
a PX4 autopilot module whose input and output are uORB topics instead of the
MLPerf Tiny protocol, so it is not one of the protocol ``KINDS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from edgeq import __version__
from edgeq.errors import UsageError
from edgeq.firmware.glue import GLUE_C, check_dtypes, engine_files, protocol_files
from edgeq.firmware.manifest import MANIFEST, TFLM_MARKERS, EngineManifest, read_manifest
from edgeq.firmware.skeleton_px4 import BUILD as PX4_BUILD
from edgeq.firmware.skeleton_px4 import px4_files, px4_layout
from edgeq.render import render, template_bytes, write_folder


@dataclass(frozen=True)
class Layout:
    """Where one kind of skeleton puts its files; ``{sketch}`` and ``{component}`` are filled in per folder."""

    sdk: str  # the SDK's name in messages and the README
    src: str  # the folder holding the portable C and the platform file
    platform: str  # template path (edgeq.render) of the board layer, copied into src
    entry: str  # the file holding the entry point
    copied: tuple[tuple[str, str], ...]  # (path in the folder, template path)
    rendered: tuple[tuple[str, str], ...]  # (path in the folder, template)
    build: str  # the build command, for the summary


LAYOUTS = {
    "arduino": Layout(
        sdk="Arduino",
        src="src",
        platform="arduino/edgeq_platform_arduino.cpp",
        entry="{sketch}.ino",
        copied=(),
        rendered=(("{sketch}.ino", "arduino/sketch.ino.j2"), ("README.md", "arduino/README.md.j2")),
        build="arduino-cli compile --fqbn arduino:mbed_nano:nano33ble {folder}",
    ),
    "esp-idf": Layout(
        sdk="ESP-IDF",
        src="components/{component}",
        platform="esp-idf/edgeq_platform_espidf.c",
        entry="main/main.c",
        copied=(("main/main.c", "esp-idf/main.c"), ("sdkconfig.defaults", "esp-idf/sdkconfig.defaults")),
        rendered=(
            ("CMakeLists.txt", "esp-idf/CMakeLists.txt.j2"),
            ("main/CMakeLists.txt", "esp-idf/main_CMakeLists.txt.j2"),
            ("components/{component}/CMakeLists.txt", "esp-idf/component_CMakeLists.txt.j2"),
            ("components/{component}/idf_component.yml", "esp-idf/idf_component.yml.j2"),
            ("README.md", "esp-idf/README.md.j2"),
        ),
        build="cd {folder} && idf.py set-target esp32s3 && idf.py build flash monitor",
    ),
    "zephyr": Layout(
        sdk="Zephyr",
        src="src",
        platform="zephyr/edgeq_platform_zephyr.c",
        entry="src/main.c",
        copied=(("src/main.c", "zephyr/main.c"), ("prj.conf", "zephyr/prj.conf")),
        rendered=(("CMakeLists.txt", "zephyr/CMakeLists.txt.j2"), ("README.md", "zephyr/README.md.j2")),
        build="west build -b nrf5340dk/nrf5340/cpuapp {folder} && west flash",
    ),
}
# The kinds that serve the MLPerf Tiny protocol (the layouts above).
KINDS = tuple(LAYOUTS)
# Every kind edgeq skeleton writes: the protocol kinds and the PX4 module.
ALL_KINDS = (*KINDS, "px4")
# Arduino sketch names: a letter or digit, then letters, digits, '_', '-', '.'; at most 63 characters.
SKETCH_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


@dataclass(frozen=True)
class Skeleton:
    """A written skeleton; paths are relative to ``folder``."""

    folder: Path
    kind: str
    engine: EngineManifest
    src: str  # the folder with the portable C and the platform file
    sources: tuple[str, ...]  # the C/C++ files in src (file names), the platform file last
    platform: str  # the SDK-specific board layer
    entry: str  # the file with the entry point (main, app_main, setup/loop)
    files: tuple[str, ...]  # everything written

    @property
    def build_command(self) -> str:
        """How to build it with the SDK's toolchain (details in its README.md)."""
        build = PX4_BUILD if self.kind == "px4" else LAYOUTS[self.kind].build
        return build.format(folder=self.folder)

    def to_dict(self) -> dict[str, Any]:
        """The skeleton as JSON-ready values."""
        return {
            "folder": str(self.folder),
            "kind": self.kind,
            "engine": self.engine.name,
            "src": self.src,
            "sources": list(self.sources),
            "platform": self.platform,
            "entry": self.entry,
            "files": list(self.files),
            "build": self.build_command,
        }


def write_skeleton(engine_dir: Path | str, kind: str, out_dir: Path | str) -> Skeleton:
    """Write the ``kind`` skeleton for the engine in ``engine_dir`` into ``out_dir`` (all files or none).

    Args:
        engine_dir: a folder written by ``edgeq generate MODEL --format engine``.
        kind: ``arduino``, ``esp-idf``, ``zephyr`` or ``px4``.
        out_dir: the folder to write; for Arduino it is the sketch, and its name is the sketch's;
            for PX4 an ``EXTERNAL_MODULES_LOCATION``. Other files in it are left alone.

    Raises:
        UsageError: an unknown kind, no engine folder, or an output folder the SDK cannot take.
        UnsupportedError: the engine has tensors of a dtype the glue (or the PX4 module) cannot read.
    """
    engine_dir, out_dir = Path(engine_dir), Path(out_dir)
    if kind not in ALL_KINDS:
        raise UsageError(f"unknown skeleton kind {kind!r}; choose one of {', '.join(ALL_KINDS)}")
    engine = _read_engine(engine_dir)
    check_dtypes(engine)
    _check_out_dir(engine_dir, out_dir, kind)
    skeleton = _plan(engine, kind, out_dir)
    files = px4_files(engine_dir, engine, out_dir.name) if kind == "px4" else _files(engine_dir, skeleton)
    write_folder(out_dir, files)
    return replace(skeleton, files=tuple(sorted(files)))


def _read_engine(engine_dir: Path) -> EngineManifest:
    """The engine's manifest; a TFLM project or a plain folder gets a message naming the fix."""
    if engine_dir.is_dir() and not (engine_dir / MANIFEST).is_file():
        if all((engine_dir / marker).is_file() for marker in TFLM_MARKERS):
            raise UsageError(
                f"{engine_dir} is a TFLM project, whose README.md already covers Arduino, ESP-IDF and Zephyr; "
                "edgeq skeleton takes engine folders: edgeq generate MODEL --format engine -o DIR"
            )
        raise UsageError(
            f"{engine_dir} is not an engine folder (no {MANIFEST}); make one with: "
            "edgeq generate MODEL --format engine -o DIR"
        )
    return read_manifest(engine_dir)


def _check_out_dir(engine_dir: Path, out_dir: Path, kind: str) -> None:
    if out_dir.resolve() == engine_dir.resolve():
        raise UsageError(f"-o {out_dir} is the engine folder itself; write the skeleton to a folder of its own")
    if kind == "arduino" and not SKETCH_NAME.fullmatch(out_dir.name):
        raise UsageError(
            f"-o {out_dir}: Arduino names the sketch after its folder, and {out_dir.name!r} is no valid sketch "
            "name (a letter or digit, then letters, digits, '_', '-' or '.', at most 63); e.g. -o net_sketch"
        )


def _plan(engine: EngineManifest, kind: str, out_dir: Path) -> Skeleton:
    """Where writing ``kind`` for ``engine`` into ``out_dir`` puts things (``files`` is filled in once written)."""
    if kind == "px4":
        px4 = px4_layout(engine)
        return Skeleton(out_dir, kind, engine, px4.src, px4.sources, px4.platform, px4.entry, files=())
    layout = LAYOUTS[kind]
    names = _names(engine, out_dir)
    src = layout.src.format(**names)
    platform_name = Path(layout.platform).name
    sources = (*engine.sources, "edgeq_dut.c", GLUE_C, platform_name)
    return Skeleton(
        folder=out_dir,
        kind=kind,
        engine=engine,
        src=src,
        sources=sources,
        platform=f"{src}/{platform_name}",
        entry=layout.entry.format(**names),
        files=(),
    )


def _names(engine: EngineManifest, out_dir: Path) -> dict[str, str]:
    """The values of the placeholders in a Layout's paths."""
    return {"sketch": out_dir.name, "component": f"edgeq_{engine.name}"}


def _files(engine_dir: Path, sk: Skeleton) -> dict[str, str | bytes]:
    """Every file of the skeleton by its path in the folder: engine, protocol, board layer, SDK files."""
    layout = LAYOUTS[sk.kind]
    names = _names(sk.engine, sk.folder)
    portable = {**engine_files(engine_dir), **protocol_files(sk.engine)}
    files: dict[str, str | bytes] = {f"{sk.src}/{name}": data for name, data in portable.items()}
    files[sk.platform] = template_bytes(layout.platform)
    for path, template in layout.copied:
        files[path.format(**names)] = template_bytes(template)
    context = {
        "e": sk.engine,
        "sk": {**sk.to_dict(), **names, "dirname": sk.folder.name, "project": names["component"]},
        "sdk": layout.sdk,
        "edgeq_version": __version__,
    }
    for path, template in layout.rendered:
        files[path.format(**names)] = render(template, **context)
    return files
