"""Render firmware_templates/ with Jinja2 and write generated folders atomically."""

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
from edgeq.resources import data_dir


@cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("firmware_templates"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(template: str, **context: Any) -> str:
    """Render ``firmware_templates/<template>`` with ``context``."""
    return _environment().get_template(template).render(**context)


def template_bytes(path: str) -> bytes:
    """A file of firmware_templates/ copied as it is."""
    return (data_dir("firmware_templates") / path).read_bytes()


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
