"""Render edgeq's C templates with Jinja2 and write generated folders atomically.

A template is named ``FOLDER/FILE`` (``"engine/model.c.j2"``, ``"cortexm/main.c.j2"``);
each folder lives in the package that owns it (TEMPLATE_FOLDERS) and ships as
its package data.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from edgeq.errors import UsageError
from edgeq.outputs import writing
from edgeq.resources import package_dir

# Template folder -> where it is inside the edgeq package: the engine's next to the engine generator,
# the C array and TFLM project templates with codegen, the firmware and board-SDK skeletons with firmware.
TEMPLATE_FOLDERS = {
    "engine": "codegen/engine/templates",
    "carray": "codegen/templates/carray",
    "tflm": "codegen/templates/tflm",
    "common": "firmware/templates/common",
    "cortexm": "firmware/templates/cortexm",
    "arduino": "firmware/templates/arduino",
    "esp-idf": "firmware/templates/esp-idf",
    "zephyr": "firmware/templates/zephyr",
    "px4": "firmware/templates/px4",
    "ros2": "ros2/templates",
}


def template_dir(folder: str) -> Path:
    """The folder of templates named ``folder`` (a key of TEMPLATE_FOLDERS)."""
    return package_dir("edgeq", TEMPLATE_FOLDERS[folder])


@cache
def _environment() -> Any:
    import jinja2

    folders = {name: jinja2.FileSystemLoader(str(template_dir(name))) for name in TEMPLATE_FOLDERS}
    return jinja2.Environment(
        loader=jinja2.PrefixLoader(folders, delimiter="/"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(template: str, **context: Any) -> str:
    """Render the template ``FOLDER/FILE`` (e.g. ``"engine/model.c.j2"``) with ``context``."""
    return _environment().get_template(template).render(**context)


def template_bytes(path: str) -> bytes:
    """The file ``FOLDER/FILE`` of the template folders (e.g. ``"common/edgeq_dut.c"``), to copy as it is."""
    folder, _, name = path.partition("/")
    return (template_dir(folder) / name).read_bytes()


def write_folder(out_dir: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write ``files`` (relative name -> content) into ``out_dir``, all or nothing.

    Everything is staged in a temporary folder beside ``out_dir`` first; only
    when every file is written are they moved into place. Files of ``out_dir``
    that edgeq does not generate are left alone.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} is a file; -o takes a folder")
    with writing(out_dir):
        return _write_staged(out_dir, files)


def _write_staged(out_dir: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for name, content in files.items():
            target = stage / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        out_dir.mkdir(exist_ok=True)
        written = []
        for name in files:
            (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / name, out_dir / name)
            written.append(out_dir / name)
        return written
    finally:
        shutil.rmtree(stage, ignore_errors=True)
