"""``--format carray``: the model bytes as an aligned const C array with its I/O facts as macros."""

from __future__ import annotations

import re

from edgeq.codegen.cgen import c_byte_array_body
from edgeq.codegen.context import ModelContext
from edgeq.errors import UsageError
from edgeq.render import render

SECTION_RE = re.compile(r"^[A-Za-z_.$][A-Za-z0-9_.$]*$")


def check_section(section: str | None) -> str | None:
    """Validate a linker section name (letters, digits, '_', '.', '$')."""
    if section is not None and not SECTION_RE.match(section):
        raise UsageError(f"--section {section!r} is not a linker section name (letters, digits, '_', '.', '$')")
    return section


def carray_files(ctx: ModelContext, data: bytes, lang: str, section: str | None) -> dict[str, str]:
    """{file name: text} of the C array header and source."""
    ext = "cc" if lang == "cpp" else "c"
    body = c_byte_array_body(data)
    return {
        f"{ctx.ident}_model_data.h": render("carray/model_data.h.j2", m=ctx),
        f"{ctx.ident}_model_data.{ext}": render(
            "carray/model_data.c.j2", m=ctx, ext=ext, body=body, section=check_section(section)
        ),
    }
