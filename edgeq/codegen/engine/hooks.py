"""The per-op hooks of the generated engine, found again in its C.

``engine/model.c.j2`` brackets every kernel call with ``EQ_OP_BEGIN(i)`` /
``EQ_OP_END(i)`` and a ``/* op N: ... */`` comment naming the TFLite op; the
hooks are empty unless ``EDGEQ_PROFILE_OPS`` is defined. Drivers that time
each call (``engine/host_op_timing.c.j2``) need the number of calls and which
op each one runs: :func:`engine_calls` reads both from the generated source.
"""

from __future__ import annotations

import re

from edgeq.errors import EdgeqError

_CALL = re.compile(r"EQ_OP_BEGIN\((\d+)\);\n\s*/\* op (\d+): (.*?) \*/")
_HOOK = re.compile(r"^\s+EQ_OP_BEGIN\(\d+\);$", re.M)


def engine_calls(c_source: str) -> list[tuple[int, int, str]]:
    """(position, TFLite op index, comment) of every hooked kernel call in a generated engine's C."""
    calls = [(int(pos), int(op), text) for pos, op, text in _CALL.findall(c_source)]
    hooks = len(_HOOK.findall(c_source))
    if [c[0] for c in calls] != list(range(hooks)):
        raise EdgeqError(f"the engine has {hooks} hooked kernel calls but {len(calls)} read as '/* op N: ... */'")
    return calls
