"""The DUT client through the EEMBC IO manager board (energy mode): `dut CMD%` out, `[dut]: ` lines in.

Replays tests/fixtures/transcripts/io_manager_energy.txt (written from the protocol description and
the MLPerf Tiny runner's IO manager client) on a pty, and checks the unwrapping on its own.
"""

from __future__ import annotations

import pytest
import serial

from edgeq.errors import UsageError
from edgeq.serialdut.client import DutClient
from edgeq.serialdut.link import DeviceRefusedError, DutLink
from edgeq.serialdut.parse import LineKind, unwrap_io_manager
from edgeq.targets.serial import ENV_VIA, SerialTarget
from tests.serialdut.harness import TRANSCRIPTS, Replay, lines

TRANSCRIPT = TRANSCRIPTS / "io_manager_energy.txt"


def test_unwrap():
    assert unwrap_io_manager("[dut]: m-ready") == ("m-ready", True)
    assert unwrap_io_manager("m-ready") == ("m-ready", False)
    assert unwrap_io_manager("\x00[dut]: m-results-[1.0,]") == ("\x00m-results-[1.0,]", True)


def test_session_through_the_io_manager(sim_dut):
    replay = Replay(TRANSCRIPT)
    dut_sim = sim_dut(replay)
    with DutClient.open(dut_sim.path, 9600, timeout=5.0, via="io-manager") as dut:
        assert dut.chunk_bytes == 26  # as the MLPerf Tiny runner sends through the IO manager
        assert dut.name() == "edgeq-engine"
        assert dut.profile().model_id == "kws01"
        dut.load_input(bytes(range(30)))
        result = dut.infer(10, 1)
        assert (result.n, result.warmup, result.results, result.latency_us) == (10, 1, (0.0, 0.973, 0.027), None)
        with pytest.raises(DeviceRefusedError) as refused:
            dut.raw()
        assert refused.value.unknown_command
        with pytest.raises(DeviceRefusedError, match="the IO manager refused"):
            dut.name()
    assert replay.script == []
    assert dut_sim.commands[0] == "dut name"


def test_io_manager_lines_are_not_the_reply(sim_dut):
    """The manager's own m-ready comes first; only the relayed `[dut]: m-ready` ends the reply."""

    def respond(cmd: str):
        assert cmd == "dut name"
        return [*lines("m-ack", "m-ready"), 0.3, *lines("[dut]: m-name-dut-[late]", "[dut]: m-ready")]

    with DutClient.open(sim_dut(respond).path, 9600, timeout=5.0, via="io-manager") as dut:
        assert dut.name() == "late"
        assert [line.kind for line in dut.link._lines] == []


def test_direct_mode_is_unchanged(sim_dut):
    with DutClient.open(sim_dut(lambda cmd: lines("m-name-dut-[plain]", "m-ready")).path, timeout=5.0) as dut:
        assert dut.chunk_bytes == 31 and dut.name() == "plain"


def test_bad_options():
    port = serial.serial_for_url("loop://", timeout=0.05)
    with pytest.raises(UsageError, match="io-manager"):
        DutLink(port, 1.0, via="bridge")
    with pytest.raises(UsageError, match="1..36"):
        DutClient(port, via="io-manager", chunk_bytes=37)
    assert DutClient(port, chunk_bytes=38).chunk_bytes == 38
    with pytest.raises(UsageError, match="io-manager"):
        SerialTarget("loop://", via="bridge")


def test_serial_target_reads_the_connection_from_the_environment(sim_dut, monkeypatch):
    replay = Replay(TRANSCRIPT)
    replay.script = replay.script[:2]
    monkeypatch.setenv(ENV_VIA, "io-manager")
    target = SerialTarget(sim_dut(replay).path, 9600, timeout=5.0)
    with target.connect() as dut:  # wait_ready: the `dut name%` probe's reply
        assert dut.link.via == "io-manager"
        assert dut.profile().model_id == "kws01"
    monkeypatch.setenv(ENV_VIA, "bridge")
    with pytest.raises(UsageError, match=ENV_VIA), target.connect():
        pass


def test_kinds_of_io_manager_lines():
    port = serial.serial_for_url("loop://", timeout=0.05)
    link = DutLink(port, 1.0, via="io-manager")
    assert link._line("m-ready")[1].kind is LineKind.NOISE
    assert link._line("[dut]: m-ready")[1].kind is LineKind.READY
    assert link._line("e-[busy]")[1].kind is LineKind.ERROR
    assert link._line("m-ready")[1].kind is LineKind.READY  # after the manager's own error
