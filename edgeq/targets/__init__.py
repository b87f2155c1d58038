"""Where a model runs: one module per target, each declaring what it can do.

``get_target("host-c")`` returns a :class:`~edgeq.targets.base.Target`; see
:mod:`edgeq.targets.base` for the protocol. Adding a target is one module with
``CAPABILITIES`` and ``make_target`` plus one line in :data:`TARGETS`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from edgeq.errors import UsageError
from edgeq.targets.base import Capabilities, OpTimingTarget, Target

# target name -> module under edgeq.targets
TARGETS = {
    "host": "host",
    "host-tflm": "host_tflm",
    "host-c": "host_c",
    "qemu-m4": "qemu",
    "qemu-m7": "qemu",
    "qemu-m55": "qemu",
    "serial": "serial",
    "coral": "coral",
    "ethos-u55-32": "ethos_u",
    "ethos-u55-64": "ethos_u",
    "ethos-u55-128": "ethos_u",
    "ethos-u55-256": "ethos_u",
    "ethos-u65-256": "ethos_u",
    "ethos-u65-512": "ethos_u",
    "ethos-u85-128": "ethos_u",
    "ethos-u85-256": "ethos_u",
    "ethos-u85-512": "ethos_u",
    "ethos-u85-1024": "ethos_u",
    "ethos-u85-2048": "ethos_u",
}
# name prefix -> module, for targets whose name carries an address
PREFIXED = {"ssh://": "ssh"}
PREFIXED_FORMS = {"ssh://": "ssh://user@host[:port]"}


def target_names() -> list[str]:
    """Every target name, with the form of the addressed ones (for help and errors)."""
    return [*TARGETS, *PREFIXED_FORMS.values()]


def _module(name: str) -> ModuleType:
    module_name = TARGETS.get(name) or next((m for p, m in PREFIXED.items() if name.startswith(p)), None)
    if module_name is None:
        raise UsageError(f"unknown target {name!r}; targets: {', '.join(target_names())}")
    return importlib.import_module(f"edgeq.targets.{module_name}")


def capabilities(name: str) -> Capabilities:
    """What the target called ``name`` can do (UsageError for an unknown name)."""
    caps: Capabilities = _module(name).CAPABILITIES
    return caps


def get_target(name: str, **options: object) -> Target:
    """The target called ``name``, or a UsageError listing the known ones.

    ``options`` (e.g. ``port``, ``baud`` for ``serial``) must be ones its
    capabilities list; None values are dropped.
    """
    module = _module(name)
    given = {k: v for k, v in options.items() if v is not None}
    module.CAPABILITIES.check_options(name, given)
    target: Target = module.make_target(name, **given)
    return target


__all__ = ["TARGETS", "Capabilities", "OpTimingTarget", "Target", "capabilities", "get_target", "target_names"]
