"""C helpers: identifiers, literals, comments."""

from __future__ import annotations

import struct

import pytest

from edgeq.codegen.cgen import c_byte_array_body, c_comment, c_float, c_identifier, c_int, c_string
from edgeq.errors import UsageError


@pytest.mark.parametrize(
    ("name", "ident"),
    [
        ("kws", "kws"),
        ("my-model v2", "my_model_v2"),
        ("2layer", "m_2layer"),
        ("int", "int_model"),
        ("class", "class_model"),
        ("main", "main_model"),
        ("__Reserved", "Reserved"),
        ("a..b", "a_b"),
        ("Ünïcode net", "n_code_net"),
    ],
)
def test_identifiers(name, ident):
    assert c_identifier(name) == ident


def test_identifier_without_letters():
    with pytest.raises(UsageError, match="no letters or digits"):
        c_identifier("---")


def test_byte_array_body_round_trips():
    data = bytes(range(256)) * 3 + b"\x00\xff"
    body = c_byte_array_body(data, per_line=12)
    values = [int(tok, 16) for tok in body.replace(",", " ").split()]
    assert bytes(values) == data
    assert all(len(line.split(",")) - 1 <= 12 for line in body.splitlines())


@pytest.mark.parametrize("value", [0.0, 1.0, 0.00390625, 0.235294119, 1e-9, 12345.678, -3.5])
def test_float_literal_reads_back_as_the_same_float32(value):
    f32 = struct.unpack("<f", struct.pack("<f", value))[0]
    text = c_float(f32)
    assert text.endswith("f")
    assert struct.unpack("<f", struct.pack("<f", float(text[:-1])))[0] == f32


def test_float_literal_rejects_nan():
    with pytest.raises(UsageError):
        c_float(float("nan"))


def test_int_and_comment_and_string():
    assert c_int(-128) == "(-128)" and c_int(5) == "5"
    assert "*/" not in c_comment("evil */ name /* x")
    assert c_string('a"b\\c') == '"a\\"b\\\\c"'
