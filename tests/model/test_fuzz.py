"""Fuzz read_model with mutated fixtures: a Graph or ModelFormatError, nothing else, quickly."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeq.cli.views.inspect import render_model
from edgeq.errors import ModelFormatError
from edgeq.model import Graph, read_model
from edgeq.model.analysis import inspect_model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tflite"
MODELS = [(FIXTURES / f"{n}.tflite").read_bytes() for n in ("conv_float", "conv_int8", "two_input_int8")]
NAME = "fuzz.tflite"
TIME_LIMIT = 2.0  # seconds per file; real parses take milliseconds

fuzz = settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
models = st.sampled_from(MODELS)
# Values that stress offsets and lengths when written over a 32-bit field.
INTERESTING = [0, 1, 4, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


def check(data: bytes) -> None:
    """read_model (and the analysis of what it returns) may only raise ModelFormatError."""
    start = time.perf_counter()
    try:
        graph = read_model(data, name=NAME)
    except ModelFormatError as exc:
        message = str(exc)
        assert "\n" not in message
        assert message.startswith(NAME)
    else:
        assert isinstance(graph, Graph)
        render_model(inspect_model(graph))
    assert time.perf_counter() - start < TIME_LIMIT


@fuzz
@given(models, st.lists(st.integers(min_value=0), min_size=1, max_size=16))
def test_bit_flips(model, positions):
    data = bytearray(model)
    for p in positions:
        data[(p // 8) % len(data)] ^= 1 << (p % 8)
    check(bytes(data))


@fuzz
@given(models, st.floats(min_value=0.0, max_value=1.0))
def test_truncation(model, fraction):
    check(model[: int(len(model) * fraction)])


@fuzz
@given(models, st.integers(min_value=0), st.binary(min_size=1, max_size=64))
def test_overwritten_byte_runs(model, position, run):
    data = bytearray(model)
    p = position % len(data)
    data[p : p + len(run)] = run[: len(data) - p]
    check(bytes(data))


@fuzz
@given(models, st.integers(min_value=0), st.sampled_from(INTERESTING))
def test_overwritten_words(model, position, value):
    data = bytearray(model)
    p = (position % (len(data) // 4)) * 4  # flatbuffer fields are 4-byte aligned
    struct.pack_into("<I", data, p, value)
    check(bytes(data))


@fuzz
@given(models, st.binary(max_size=256), st.binary(max_size=256))
def test_prepended_and_appended_bytes(model, head, tail):
    check(head + model + tail)


@fuzz
@given(st.binary(max_size=4096))
def test_random_bytes(data):
    check(data)


@fuzz
@given(st.integers(min_value=0, max_value=2**32 - 1), st.binary(max_size=2048))
def test_random_bytes_with_identifier(root, body):
    check(struct.pack("<I", root) + b"TFL3" + body)


def test_shared_references_cannot_blow_up():
    """20,000 buffers pointing at one 60 KB vector would copy 1.2 GB without the read budget."""
    flatbuffers = pytest.importorskip("flatbuffers")
    builder = flatbuffers.Builder(0)
    blob = builder.CreateByteVector(bytes(60_000))
    builder.StartObject(1)
    builder.PrependUOffsetTRelativeSlot(0, blob, 0)
    buffer = builder.EndObject()
    builder.StartVector(4, 20_000, 4)
    for _ in range(20_000):
        builder.PrependUOffsetTRelative(buffer)
    buffers = builder.EndVector()
    builder.StartObject(5)
    subgraph = builder.EndObject()
    builder.StartVector(4, 1, 4)
    builder.PrependUOffsetTRelative(subgraph)
    subgraphs = builder.EndVector()
    builder.StartObject(5)
    builder.PrependUOffsetTRelativeSlot(2, subgraphs, 0)
    builder.PrependUOffsetTRelativeSlot(4, buffers, 0)
    builder.Finish(builder.EndObject(), file_identifier=b"TFL3")
    start = time.perf_counter()
    with pytest.raises(ModelFormatError, match="more data than"):
        read_model(bytes(builder.Output()), name=NAME)
    assert time.perf_counter() - start < TIME_LIMIT
