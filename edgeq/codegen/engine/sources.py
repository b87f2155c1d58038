"""Where the engine's sources are, and a fingerprint of them for build caches.

The C kernels are in ``kernels/`` and the Jinja templates of the generated
engine and its host drivers in ``templates/``, both beside this module (package
data of ``edgeq.codegen.engine``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from edgeq import __version__
from edgeq.cache import folder_fingerprint
from edgeq.resources import package_dir

_PACKAGE = "edgeq.codegen.engine"


def kernel_dir() -> Path:
    """The folder of the engine's C kernels (``edgeq_*.c``, ``edgeq_kernels.h``)."""
    return package_dir(_PACKAGE, "kernels")


def template_dir() -> Path:
    """The folder of the engine's templates (``model.c.j2``, ``host_driver.c.j2`` ...; rendered as ``engine/NAME``)."""
    return package_dir(_PACKAGE, "templates")


def kernel_source(name: str) -> bytes:
    """The bytes of the kernel file ``name`` (e.g. ``"edgeq_conv.c"``), copied into every engine that needs it."""
    return (kernel_dir() / name).read_bytes()


def generator_fingerprint() -> bytes:
    """edgeq's version plus the engine generator, templates and kernel sources: a change rebuilds every cached engine."""
    python = Path(__file__).resolve().parent
    return hashlib.sha256(__version__.encode() + folder_fingerprint(kernel_dir(), template_dir(), python)).digest()
