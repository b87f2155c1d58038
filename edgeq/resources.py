"""Where edgeq finds its data folders (firmware_templates/, boards/).

In a source checkout or an editable install they sit beside the package; a
wheel installs them under ``<prefix>/share/edgeq/``.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

from edgeq.errors import EdgeqError


def data_dir(name: str) -> Path:
    """The folder ``name`` (e.g. "firmware_templates"), or an EdgeqError naming where it was looked for."""
    candidates = [
        Path(__file__).resolve().parent.parent / name,
        Path(sysconfig.get_path("data")) / "share" / "edgeq" / name,
        Path(sys.prefix) / "share" / "edgeq" / name,
    ]
    for path in candidates:
        if path.is_dir():
            return path
    looked = ", ".join(str(p) for p in candidates)
    raise EdgeqError(f"edgeq's {name} folder is missing (looked in {looked}); reinstall edgeq")
