"""Small, tested helpers for writing C: identifiers, literals, comments.

Everything generated goes through these so that a model called ``int`` or
``2-layer net`` still yields valid C and C++.
"""

from __future__ import annotations

import math
import re

from edgeq.errors import UsageError

C_KEYWORDS = frozenset(
    """auto break case char const continue default do double else enum extern float for goto if inline int
    long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile
    while _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local
    bool true false""".split()
)
CPP_KEYWORDS = frozenset(
    """alignas alignof and and_eq asm bitand bitor catch char8_t char16_t char32_t class compl concept consteval
    constexpr constinit const_cast co_await co_return co_yield decltype delete dynamic_cast explicit export
    friend mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public
    reinterpret_cast requires static_assert static_cast template this thread_local throw try typeid typename
    using virtual wchar_t xor xor_eq""".split()
)
RESERVED = C_KEYWORDS | CPP_KEYWORDS | {"main", "NULL", "errno", "assert", "offsetof"}
_HEX = [f"0x{i:02x}" for i in range(256)]


def c_identifier(name: str) -> str:
    """Turn ``name`` into a valid, non-reserved C and C++ identifier.

    Non-alphanumeric characters become ``_``, runs of ``_`` collapse, a leading
    digit gets a ``m_`` prefix, reserved words (C, C++, ``main``) get ``_model``
    appended, and names C reserves for the implementation (leading ``_`` plus an
    uppercase letter or a second ``_``) are stripped of their leading ``_``.
    """
    ident = re.sub(r"[^0-9A-Za-z_]", "_", name.strip())
    ident = re.sub(r"_+", "_", ident).strip("_")
    if not ident:
        raise UsageError(f"name {name!r} has no letters or digits; pass --name with a C identifier")
    if ident[0].isdigit():
        ident = "m_" + ident
    if ident in RESERVED:
        ident += "_model"
    return ident


def c_macro_prefix(ident: str) -> str:
    """The uppercase form of an identifier, for macros and include guards."""
    return ident.upper()


def c_byte_array_body(data: bytes, per_line: int = 12, indent: str = "    ") -> str:
    """The initializer lines of a byte array: ``0x1c, 0x00, ...`` with ``per_line`` bytes a line."""
    lines = []
    for start in range(0, len(data), per_line):
        chunk = data[start : start + per_line]
        lines.append(indent + ", ".join(_HEX[b] for b in chunk) + ",")
    return "\n".join(lines)


def c_float(value: float) -> str:
    """A C float literal that reads back to the same float32 (9 significant digits)."""
    if not math.isfinite(value):
        raise UsageError(f"cannot write non-finite value {value} as a C constant")
    text = f"{value:.9g}"
    if "e" not in text and "." not in text:
        text += ".0"
    return text + "f"


def c_int(value: int) -> str:
    """An int literal, parenthesized when negative so macros expand safely."""
    return f"({value})" if value < 0 else str(value)


def c_comment(text: str) -> str:
    """Text safe inside a ``/* */`` comment (no comment terminators, no control characters)."""
    text = text.replace("*/", "* /").replace("/*", "/ *")
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def c_string(text: str) -> str:
    """A C string literal with quotes, backslashes and non-printable characters escaped."""
    out = []
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch.isprintable() and ord(ch) < 128:
            out.append(ch)
        else:
            out.extend(f'\\x{b:02x}""' for b in ch.encode())
    return '"' + "".join(out) + '"'
