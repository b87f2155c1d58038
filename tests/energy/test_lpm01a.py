"""X-NUCLEO-LPM01A driver against a simulated board on a real pty, opened with pyserial."""

from __future__ import annotations

import logging
import time

import pytest

from edgeq.energy.lpm01a import Lpm01aMonitor
from edgeq.energy.lpm01a_parse import LineKind, decode_sample, encode_sample, parse_line
from edgeq.energy.measure import measure_energy
from edgeq.errors import DeviceError, UsageError
from tests.energy.sim_lpm01a import SimLpm01a

CONFIG = [
    "htc",
    "volt 3300m",
    "freq 1k",
    "acqtime 0",
    "output current",
    "format ascii_dec",
    "trigsrc sw",
    "eventsrc d7 fal",
    "pwrend on",
    "pwr on",
]


@pytest.fixture
def board():
    made: list[SimLpm01a] = []

    def make(**kwargs) -> SimLpm01a:
        made.append(SimLpm01a(**kwargs))
        return made[-1]

    yield make
    for sim in made:
        sim.close()


def _expected_joules(sim: SimLpm01a, active_a: float, idle_a: float, volts: float) -> float:
    """Trapezoid energy between the two edges of a step idle -> active -> idle, from the board's sample indices."""
    k0, k1 = sim.edge_samples
    return volts * (active_a * (k1 - k0 - 1) + (active_a + idle_a) / 2) / sim.freq


def test_sample_lines():
    assert decode_sample("6409-07") == pytest.approx(640.9e-6)
    assert decode_sample("1234+00") == 1234.0
    assert decode_sample("640-07") is None and decode_sample("6409-7") is None
    for value in (5e-9, 640.9e-6, 0.0123, 0.2):
        assert decode_sample(encode_sample(value)) == pytest.approx(value, rel=1e-3)
    assert parse_line("PowerShield > ack volt 3300m\r").kind is LineKind.ACK
    assert parse_line("PowerShield > Error detail: out of range").text == "out of range"
    assert parse_line("TimeStamp: 002s 500ms, buff 00%").value == 2.5
    assert parse_line("event 3 ris").kind is LineKind.EVENT
    assert parse_line("\x00\xffnoise").kind is LineKind.OTHER


def test_open_takes_control_and_configures(board):
    sim = board()
    mon = Lpm01aMonitor(sim.path, freq="1k")
    mon.open()
    assert sim.commands == CONFIG
    mon.close()
    assert sim.wait_for("hrc")


def test_energy_between_d7_edges(board):
    sim = board()
    mon = Lpm01aMonitor(sim.path, voltage_v=3.0, freq="1k")

    def run_window():
        time.sleep(0.05)
        sim.edge(current_after=0.010)  # the DUT starts its timed inferences
        time.sleep(0.3)
        sim.edge(current_after=0.001)
        time.sleep(0.05)

    energy = measure_energy(mon, run_window, inferences=10)
    mon.close()
    assert sim.wait_for("hrc") and sim.commands[len(CONFIG) :] == ["start", "stop", "hrc"]
    assert energy.kind == "measured"
    assert energy.value == pytest.approx(_expected_joules(sim, 0.010, 0.001, 3.0) * 1e6 / 10, rel=1e-9)
    assert energy.value == pytest.approx(3.0 * 0.010 * 0.3 / 10 * 1e6, rel=0.1)
    assert energy.source.startswith(f"lpm01a on {sim.path} (3.000 V supply, current sampled at 1 kHz")
    assert "between timestamp edges" in energy.source


def test_trace_timing_and_garbage_lines(board):
    sim = board(noise=True)
    mon = Lpm01aMonitor(sim.path, freq="1k")
    mon.start()
    time.sleep(0.2)
    trace = mon.stop()
    mon.close()
    assert trace.samples == sim.sent > 100
    assert trace.t_s[1] - trace.t_s[0] == pytest.approx(1e-3)
    assert trace.current_a[0] == pytest.approx(1e-3) and trace.power_w[0] == pytest.approx(3.3e-3)
    assert trace.notes and "skipped" in trace.notes[0]


def test_trigger_d7_counts_the_start_as_an_edge(board):
    sim = board()
    mon = Lpm01aMonitor(sim.path, trigger="d7", freq="500")
    mon.start()
    time.sleep(0.1)
    sim.edge()
    time.sleep(0.05)
    trace = mon.stop()
    mon.close()
    assert "trigsrc d7" in sim.commands
    assert trace.edges_s[0] == 0.0 and trace.edges_s[1] == pytest.approx(sim.edge_samples[0] / 500)


def test_old_firmware_without_eventsrc_falls_back_to_the_whole_window(board, caplog):
    sim = board(refuse={"eventsrc"})
    mon = Lpm01aMonitor(sim.path, freq="1k")
    with caplog.at_level(logging.WARNING, logger="edgeq.energy"):
        energy = measure_energy(mon, lambda: time.sleep(0.1), inferences=1)
    mon.close()
    assert "no eventsrc command" in caplog.text
    assert "whole acquisition" in energy.source
    assert energy.value == pytest.approx(3.3 * 1e-3 * (sim.sent - 1) / 1000 * 1e6, rel=1e-9)  # first to last sample
    assert sim.sent > 90


def test_a_board_that_does_not_answer(board):
    sim = board(silent=True)
    mon = Lpm01aMonitor(sim.path, timeout_s=0.3)
    with pytest.raises(DeviceError, match=rf"lpm01a on {sim.path} did not answer `htc` within 0.3 s"):
        mon.open()


def test_a_refused_command(board):
    sim = board(refuse={"freq"})
    mon = Lpm01aMonitor(sim.path)
    with pytest.raises(DeviceError, match="refused `freq 1k`: invalid parameter for freq"):
        mon.open()


def test_stop_without_completion(board):
    sim = board(complete=False)
    mon = Lpm01aMonitor(sim.path, timeout_s=0.2)
    mon.start()
    with pytest.raises(DeviceError, match="did not confirm `stop`"):
        mon.stop()
    mon.close()


def test_no_such_port():
    with pytest.raises(DeviceError, match="cannot open serial port /dev/edgeq-no-such-tty"):
        Lpm01aMonitor("/dev/edgeq-no-such-tty").open()


def test_bad_settings():
    with pytest.raises(UsageError, match="outside 1.8..3.3 V"):
        Lpm01aMonitor("/dev/ttyACM0", voltage_v=5.0)
    with pytest.raises(UsageError, match="allowed: 1, 2, 5"):
        Lpm01aMonitor("/dev/ttyACM0", freq="100k")
