"""The parsers on whole transcripts: captured from host_dut, and hand-made (reference firmware, line noise).

The ``host_dut_*`` transcripts are captured from the C protocol; ``test_captured_transcripts_are_current``
replays them against a fresh build (timestamps aside). Recapture after a protocol change with::

    EDGEQ_RECAPTURE_TRANSCRIPTS=1 pytest tests/serialdut/test_transcripts.py
"""

from __future__ import annotations

import os
import random
import re

import pytest

from edgeq.serialdut.parse import (
    LineKind,
    classify,
    is_load_done,
    parse_expecting,
    parse_help_input_bytes,
    parse_infer,
    parse_name,
    parse_profile,
    parse_raw,
    parse_results,
    split_lines,
    take_reply,
)
from tests.serialdut.harness import TRANSCRIPTS, capture, exchanges, read_transcript, received

LOADED = bytes(range(200, 216))
LOAD = ["db load 16", "db " + LOADED[:10].hex(), "db " + LOADED[10:].hex().upper()]
CAPTURED = {
    "host_dut_session.txt": (
        (),
        ["name", "profile", "help", "timestamp", "raw", *LOAD, "db print", "infer 5 2", "results", "raw"]
        + ["db load 65", "infer 0 1", "foo", "db 0g"],
    ),
    "host_dut_mse.txt": (("--mse",), ["profile", *LOAD, "infer 2 1", "results"]),
    "host_dut_no_raw.txt": (("--no-raw",), [*LOAD, "infer 1 0", "raw"]),
    "host_dut_energy.txt": (("--energy",), ["timestamp", *LOAD, "infer 3 1", "results"]),
}
HEADER = (
    "# Captured from tests/firmware/host_dut.c {flags}(edgeq/firmware/templates/common/edgeq_dut.c) on a pty.\n"
    "# Regenerate: EDGEQ_RECAPTURE_TRANSCRIPTS=1 pytest tests/serialdut/test_transcripts.py\n"
)


def _normalized(text_lines: list[str]) -> list[str]:
    return [re.sub(r"m-lap-us-\d+", "m-lap-us-T", t) for t in text_lines if not t.startswith("#")]


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_captured_transcripts_are_current(name, host_dut_exe):
    flags, commands = CAPTURED[name]
    fresh = capture(host_dut_exe, flags, commands)
    path = TRANSCRIPTS / name
    if os.environ.get("EDGEQ_RECAPTURE_TRANSCRIPTS"):
        path.write_text(HEADER.format(flags=" ".join(flags) + " " if flags else "") + "\n".join(fresh) + "\n")
    assert _normalized(fresh) == _normalized(path.read_text().splitlines()), f"recapture {name} (see module doc)"


def _replies(name: str, chunking: int = 0) -> dict[str | None, list]:
    """command -> its reply, parsed from the transcript's byte stream cut into random chunks."""
    events = read_transcript(TRANSCRIPTS / name)
    stream, rng = received(events), random.Random(chunking)
    texts, rest, pos = [], b"", 0
    while pos < len(stream):
        step = rng.randint(1, 9) if chunking else len(stream)
        more, rest = split_lines(rest + stream[pos : pos + step])
        texts += more
        pos += step
    assert rest == b""
    pending = [classify(t) for t in texts]
    out: dict[str | None, list] = {}
    for command, _ in exchanges(events):
        reply, pending = take_reply(pending)
        assert reply is not None, f"{name}: no m-ready for {command}"
        out.setdefault(command, []).append(reply)
    assert pending == []
    return out


@pytest.mark.parametrize("chunking", [0, 1, 2, 3])
def test_host_dut_session(chunking):
    replies = _replies("host_dut_session.txt", chunking)
    assert replies[None][0].messages[0] == "m-timestamp-mode-performance"
    assert parse_name(replies["name"][0].messages) == "edgeq-host"
    profile = parse_profile(replies["profile"][0].messages)
    assert (profile.firmware, profile.model_id) == ("edgeq-test-1.0", "test01")
    help_reply = replies["help"][0]
    assert help_reply.messages == [] and len(help_reply.noise) > 5
    assert parse_help_input_bytes(help_reply.noise) == 16
    assert parse_expecting(replies["db load 16"][0].messages) == 16
    load_done = [is_load_done(replies[cmd][0].messages) for cmd in LOAD[1:]]
    assert load_done == [False, True]
    infer = parse_infer(replies["infer 5 2"][0].messages)
    assert (infer.warmup, infer.n, infer.results) == (2, 5, (33.2, 215.0, 200.0, 7.0))
    assert infer.latency_us >= 100  # the test model spins 100 us per inference
    assert parse_results(replies["results"][0].messages) == infer.results
    assert replies["raw"][0].errors == ["No results: run infer first"]
    recon = bytes(int(v / 3) & 0xFF for v in (b - 256 for b in LOADED))  # int8 input / 3, truncated
    assert parse_raw(replies["raw"][1].messages) == LOADED + recon + (7).to_bytes(8, "little")
    assert [len(m) for m in replies["raw"][1].messages] == [len("m-raw-[]") + 64, len("m-raw-[]") + 16]
    assert replies["db load 65"][0].errors == ["Byte count 65 exceeds the input buffer (64 bytes)"]
    assert replies["infer 0 1"][0].errors == ["Inference iterations must be >0"]
    assert replies["foo"][0].errors == ["Unknown command: foo"]
    assert replies["db 0g"][0].errors == ["Invalid hex digit: g"]


def test_host_dut_mse_and_energy():
    mse = _replies("host_dut_mse.txt", 5)
    assert parse_profile(mse["profile"][0].messages).model_id == "testad01"
    assert len(parse_infer(mse["infer 2 1"][0].messages).results) == 1
    assert _replies("host_dut_no_raw.txt", 4)["raw"][0].errors == ["Unknown command: raw"]
    energy = _replies("host_dut_energy.txt", 6)
    assert energy[None][0].messages == ["m-timestamp-mode-energy", "m-init-done"]
    infer = parse_infer(energy["infer 3 1"][0].messages)
    assert (infer.t0_us, infer.t1_us, infer.latency_us, infer.n) == (None, None, None, 3)
    assert energy["timestamp"][0].messages == []


@pytest.mark.parametrize("chunking", [0, 7, 8])
def test_mlperf_reference_firmware(chunking):
    """Hand-made from the documented replies of the MLPerf Tiny reference firmware (kws01)."""
    replies = _replies("mlperf_reference.txt", chunking)
    assert replies[None][0].messages[1] == "m-lap-us-12345"
    assert parse_name(replies["name"][0].messages) == "unspecified"
    assert parse_profile(replies["profile"][0].messages).model_id == "kws01"
    assert parse_expecting(replies["db load 490"][0].messages) == 490
    infer = parse_infer(replies["infer 10 1"][0].messages)
    assert (infer.t0_us, infer.t1_us, infer.latency_us) == (12345000, 12467890, 12289.0)
    assert len(infer.results) == 12 and infer.results[2] == pytest.approx(0.918)
    assert replies["raw"][0].errors == ["Unknown command: raw"]


@pytest.mark.parametrize("chunking", [0, 1, 11, 12])
def test_noisy_link(chunking):
    """Garbage, debug prints, LF-only lines and lines split across writes."""
    replies = _replies("noisy.txt", chunking)
    boot = replies[None][0]
    assert boot.messages == ["m-timestamp-mode-performance", "m-lap-us-8", "m-init-done"]
    assert any("HAL" in n for n in boot.noise)
    assert parse_name(replies["name"][0].messages) == "noisy board"
    infer = parse_infer(replies["infer 1 0"][0].messages)
    assert (infer.t0_us, infer.t1_us, infer.results) == (1000, 1250, (0.5, -1.25))
    assert parse_raw(replies["raw"][0].messages) == bytes(range(40)) + b"\xff"


def test_transcript_lines_classify():
    kinds = [classify(t).kind for t in split_lines(received(read_transcript(TRANSCRIPTS / "noisy.txt")))[0]]
    assert {LineKind.READY, LineKind.MESSAGE, LineKind.NOISE} <= set(kinds)


# Each reference firmware's m-results form, as the MLPerf Tiny runner accepts it (trailing comma included).
REFERENCE_RESULTS = {
    "mlperf_reference.txt": ("kws01", "infer 10 1", 12, 0.918),  # "0.%d%d%d" digits, no trailing comma
    "mlperf_reference_ic01.txt": ("ic01", "infer 20 5", 10, 0.871),  # "%0.3f", no trailing comma
    "mlperf_reference_vww01.txt": ("vww01", "infer 20 5", 2, 0.973),  # "%0.3f," for each: trailing comma
    "mlperf_reference_ad01.txt": ("ad01", "infer 1500 10", 1, 11.873),  # one MSE value
}


@pytest.mark.parametrize("name", sorted(REFERENCE_RESULTS))
@pytest.mark.parametrize("chunking", [0, 3])
def test_reference_firmware_results_forms(name, chunking):
    model_id, infer_cmd, count, top = REFERENCE_RESULTS[name]
    replies = _replies(name, chunking)
    assert parse_profile(replies["profile"][0].messages).model_id == model_id
    infer = parse_infer(replies[infer_cmd][0].messages)
    assert len(infer.results) == count and max(infer.results) == pytest.approx(top)
    assert infer.latency_us is not None and infer.latency_us > 0
    if "results" in replies:
        assert parse_results(replies["results"][0].messages) == infer.results


def test_empty_reference_trailing_comma():
    replies = _replies("mlperf_reference_empty.txt", 2)
    assert parse_infer(replies["infer 1 0"][0].messages).results == (0.0, 0.0)
