"""The checks every board-schema dataclass runs on its fields, and the error a bad board file raises.

A dataclass of :mod:`edgeq.boards.schema` or :mod:`edgeq.boards.npu_schema`
lists its fields' rules in ``RULES`` and calls :func:`validate` in
``__post_init__``; :func:`check` turns a failed condition into one
:class:`BoardFileError` naming the field.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

from edgeq.errors import EdgeqError


class BoardFileError(EdgeqError):
    """A board file that is not valid YAML or breaks the board schema."""


# A field rule (see validate): a kind name such as "count" or "text?", or a tuple of the allowed values.
Rule: TypeAlias = str | tuple[object, ...]
Rules: TypeAlias = dict[str, Rule]

_TYPES = {"text": (str,), "count": (int,), "number": (int, float), "address": (int,), "bool": (bool,)}
_WORDS = {
    "text": "text",
    "count": "a whole number",
    "number": "a number",
    "address": "an address",
    "bool": "true or false",
}


def check(ok: bool, what: str, problem: str) -> None:
    """Raise a :class:`BoardFileError` ``"<what>: <problem>"`` unless ``ok``."""
    if not ok:
        raise BoardFileError(f"{what}: {problem}")


def validate(obj: Any) -> None:
    """Check each field of ``obj`` against ``obj.RULES``.

    A rule is "text", "count" (int > 0), "number" (> 0), "address" (32-bit,
    >= 0), "bool" or a tuple of allowed values; a trailing "?" allows None.
    """
    for name, rule in obj.RULES.items():
        value = getattr(obj, name)
        if isinstance(rule, tuple):
            check(value in rule, name, f"is {value!r}; allowed: {', '.join(map(str, rule))}")
            continue
        if rule.endswith("?"):
            if value is None:
                continue
            rule = rule[:-1]
        ok = isinstance(value, _TYPES[rule]) and (rule == "bool" or not isinstance(value, bool))
        check(ok, name, f"must be {_WORDS[rule]}, got {value!r}")
        if rule == "text":
            check(bool(value.strip()), name, "must not be empty")
        elif rule == "address":
            check(0 <= value < 2**32, name, f"must be a 32-bit address, got {value:#x}")
        elif rule != "bool":
            check(math.isfinite(value) and value > 0, name, f"must be greater than 0, got {value}")
