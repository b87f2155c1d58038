"""Where a model runs: one module per target, all behind :class:`Target`.

``get_target("host-c")`` returns an object whose ``run(model, inputs)`` takes
a list of input batches (one (N, ...) array per model input, in the model's
dtypes) and returns one (N, ...) array per output, raw (not dequantized).
"""

from __future__ import annotations

import importlib
from typing import Protocol

import numpy as np

from edgeq.errors import UsageError

# target name -> module under edgeq.targets exposing `TARGET`
TARGETS = {
    "host": "host",
    "host-tflm": "host_tflm",
    "host-c": "host_c",
    "qemu-m4": "qemu",
    "qemu-m7": "qemu",
    "qemu-m55": "qemu",
    "serial": "serial",
    "coral": "coral",
}
# name prefix -> module, for targets whose name carries an address
PREFIXED = {"ssh://": "ssh"}


class Target(Protocol):
    """A place to run a model."""

    name: str

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run every sample of ``inputs``; returns raw outputs with a leading sample axis."""
        ...


def get_target(name: str, **options: object) -> Target:
    """The target called ``name`` or a UsageError listing the known ones.

    ``options`` (e.g. ``port``, ``baud`` for ``serial``) go to the module's
    ``make_target(name, **options)`` when it has one; None values are dropped.
    """
    module_name = TARGETS.get(name) or next((m for p, m in PREFIXED.items() if name.startswith(p)), None)
    if module_name is None:
        known = ", ".join([*TARGETS, "ssh://user@host[:port]"])
        raise UsageError(f"unknown target {name!r}; targets: {known}")
    module = importlib.import_module(f"edgeq.targets.{module_name}")
    options = {k: v for k, v in options.items() if v is not None}
    if hasattr(module, "make_target"):
        return module.make_target(name, **options)
    if options:
        raise UsageError(f"target {name} takes no {'/'.join('--' + k for k in options)} option")
    return module.TARGET
