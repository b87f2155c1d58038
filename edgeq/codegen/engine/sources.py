"""Where the engine's sources are, and a fingerprint of them for build caches."""

from __future__ import annotations

import hashlib
from pathlib import Path

from edgeq import __version__
from edgeq.cache import folder_fingerprint
from edgeq.resources import data_dir


def kernel_dir() -> Path:
    """The folder of the engine's C kernels and templates."""
    return data_dir("firmware_templates") / "engine"


def generator_fingerprint() -> bytes:
    """edgeq's version plus the engine generator and kernel sources: a change rebuilds every cached engine."""
    python = Path(__file__).resolve().parent
    return hashlib.sha256(__version__.encode() + folder_fingerprint(kernel_dir(), python)).digest()
