"""The pure protocol parsers (edgeq.serialdut.parse) on hand-written lines and byte streams."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeq.serialdut.parse import (
    LAP_WRAP,
    InferResult,
    LineKind,
    ReplyError,
    classify,
    lap_delta_us,
    parse_error,
    parse_expecting,
    parse_help_input_bytes,
    parse_infer,
    parse_lap,
    parse_name,
    parse_profile,
    parse_raw,
    parse_results,
    parse_results_line,
    split_lines,
    take_reply,
)

INFER = ["m-warmup-start-1", "m-warmup-done", "m-infer-start-4", "m-lap-us-100", "m-lap-us-500", "m-infer-done"]


def _feed(chunks: list[bytes]) -> tuple[list[str], bytes]:
    texts, rest = [], b""
    for chunk in chunks:
        more, rest = split_lines(rest + chunk)
        texts += more
    return texts, rest


def test_split_lines_keeps_the_partial_line():
    assert split_lines(b"m-ready\r\nm-na") == (["m-ready"], b"m-na")
    assert split_lines(b"a\nb\r\n\r\nc\r") == (["a", "b", ""], b"c\r")
    assert split_lines(b"") == ([], b"")
    assert split_lines(b"\xffx\r\r\n") == (["\ufffdx"], b"")
    assert _feed([b"m-re", b"ady\r", b"\n", b"m-"]) == (["m-ready"], b"m-")


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30), max_size=12),
    endings=st.lists(st.sampled_from([b"\r\n", b"\n"]), min_size=12, max_size=12),
    cuts=st.lists(st.integers(0, 400), max_size=20),
)
def test_any_chunking_gives_the_same_lines(lines, endings, cuts):
    stream = b"".join(t.encode() + e for t, e in zip(lines, endings)) + b"m-part"
    pieces, last = [], 0
    for cut in sorted(c for c in cuts if c <= len(stream)):
        pieces.append(stream[last:cut])
        last = cut
    pieces.append(stream[last:])
    assert _feed(pieces) == ([t.rstrip("\r") for t in lines], b"m-part")


def test_classify():
    assert classify("m-ready") == classify("\x00\ufffd m-ready \t")
    assert classify("m-ready").kind is LineKind.READY
    assert classify("\x00m-init-done").text == "m-init-done"
    assert classify("m-init-do\x00\ufffdm-ready").kind is LineKind.READY  # cut short by a reset
    assert classify("m-name-dut-[caf\ufffd]").text == "m-name-dut-[caf\ufffd]"
    assert classify("e-[Unknown command: x]").kind is LineKind.ERROR
    for noise in ["", "HAL init ok", "  db print      print the loaded bytes", "m_ready", "ready"]:
        line = classify(noise)
        assert (line.kind, line.text) == (LineKind.NOISE, noise)


def test_take_reply():
    lines = [classify(t) for t in ["noise", "m-name-dut-[x]", "m-ready", "m-[Expecting 3 bytes]"]]
    reply, rest = take_reply(lines)
    assert reply is not None and reply.messages == ["m-name-dut-[x]"] and reply.noise == ["noise"]
    assert rest == lines[3:]
    assert take_reply(rest) == (None, rest)
    reply, _ = take_reply([classify("e-[Bad]"), classify("e-no brackets"), classify("m-ready")])
    assert reply.errors == ["Bad", "no brackets"]


def test_simple_replies():
    assert parse_name(["m-name-dut-[edgeq host]"]) == "edgeq host"
    assert parse_name(["m-other", "m-name-dut-[]"]) == ""
    assert parse_profile(["m-profile-[fw 1]", "m-model-[ic01]"]).model_id == "ic01"
    assert parse_profile(["m-profile-[fw 1]"]).model_id == ""
    assert parse_expecting(["m-[Expecting 3072 bytes]"]) == 3072
    assert parse_error("e-[Byte count must be >0]") == "Byte count must be >0"
    assert parse_help_input_bytes(["x", "1 <= N <= 64 (model input: 16 bytes)"]) == 16
    assert parse_help_input_bytes(["no size here"]) is None
    for parse, bad in [(parse_name, ["m-name-[x]"]), (parse_profile, ["m-model-[x]"]), (parse_expecting, ["m-ready"])]:
        with pytest.raises(ReplyError):
            parse(bad)


def test_infer():
    result = parse_infer([*INFER, "m-results-[0.250,1.000]"])
    assert result == InferResult(warmup=1, n=4, t0_us=100, t1_us=500, results=(0.25, 1.0))
    assert (result.elapsed_us, result.latency_us) == (400, 100.0)
    assert parse_infer(INFER).results == ()
    energy = parse_infer([m for m in INFER if "lap" not in m])
    assert (energy.t0_us, energy.latency_us) == (None, None)
    for broken in (INFER[:-1], INFER[1:], [m for m in INFER if m != "m-lap-us-500"], INFER[:2] + INFER[3:]):
        with pytest.raises(ReplyError):
            parse_infer(broken)
    with pytest.raises(ReplyError, match="no inferences"):
        parse_infer([m.replace("start-4", "start-0") for m in INFER])


def test_laps():
    assert parse_lap("m-lap-us-12345") == 12345
    assert lap_delta_us(LAP_WRAP - 10, 5) == 15  # a 32-bit microsecond timer wrapped
    with pytest.raises(ReplyError):
        lap_delta_us(LAP_WRAP + 10, 5)
    with pytest.raises(ReplyError):
        parse_lap("m-lap-us-")


def test_results():
    assert parse_results_line("m-results-[0.000,0.996,-1.5]") == (0.0, 0.996, -1.5)
    assert parse_results_line("m-results-[ 1.5 , 2 ]") == (1.5, 2.0)
    assert parse_results_line("m-results-[]") == ()
    assert parse_results(["m-ready-ish", "m-results-[nan,inf,-inf]"])[1] == float("inf")
    # What the MLPerf Tiny runner accepts: empty items are skipped (trailing commas of the
    # reference firmwares), spaces around values are allowed.
    assert parse_results_line("m-results-[0.973,0.027,]") == (0.973, 0.027)
    assert parse_results_line("m-results-[1,,2]") == (1.0, 2.0)
    assert parse_results_line("m-results-[ 0.5 ,\t]") == (0.5,)
    assert parse_results_line("m-results-[,]") == ()
    for bad in ["m-results-[x]", "m-results-[1,x,]", "m-results-[0.-500]", "m-results-1"]:
        with pytest.raises(ReplyError):
            parse_results_line(bad)


def test_raw():
    assert parse_raw(["m-raw-[00ff]", "m-other", "m-raw-[A0]"]) == b"\x00\xff\xa0"
    for bad in [["m-raw-[0]"], ["m-raw-[zz]"], ["m-raw-00"], ["m-results-[1]"]]:
        with pytest.raises(ReplyError):
            parse_raw(bad)
