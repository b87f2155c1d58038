"""DutClient against the C protocol on a pty (host_dut) and against simulated devices (SimDut)."""

from __future__ import annotations

import errno
import logging
import os
import signal
import threading
import time

import pytest
import serial

from edgeq.errors import DeviceError, UsageError
from edgeq.serialdut.client import DutClient
from edgeq.serialdut.link import DeviceRefusedError, open_failure
from tests.serialdut.harness import ProtocolSim, lines, sum_model

LOADED = bytes(range(200, 216))


@pytest.fixture
def booted(host_dut):
    """booted(*flags, **client_options) -> (DutClient, HostDut) after the boot banner."""
    clients: list[DutClient] = []

    def _boot(*flags: str, **options) -> tuple[DutClient, object]:
        dut = host_dut(*flags)
        client = DutClient.open(dut.path, 115200, **options)
        clients.append(client)
        dut.boot()
        banner = client.wait_ready(timeout=5)
        assert banner.messages[0] == "m-timestamp-mode-" + ("energy" if "--energy" in flags else "performance")
        return client, dut

    yield _boot
    for client in clients:
        client.close()


def test_session_on_host_dut(booted):
    dut, _ = booted()
    assert dut.name() == "edgeq-host"
    assert (dut.profile().firmware, dut.profile().model_id) == ("edgeq-test-1.0", "test01")
    assert dut.input_bytes_from_help() == 16
    dut.load_input(LOADED)
    result = dut.infer(5, 2)
    assert (result.n, result.warmup, result.results) == (5, 2, (33.2, 215.0, 200.0, 7.0))
    assert result.latency_us >= 100  # the test model spins 100 us per inference
    assert dut.results() == result.results
    for chunk in (1, 26, 38):
        dut.load_input(bytes(range(16)), chunk_bytes=chunk)
        assert dut.command("db print").messages[1] == "m-buffer-08-09-0a-0b-0c-0d-0e-0f"


def test_wait_ready_probes_a_board_that_already_booted(host_dut):
    dut = host_dut()
    dut.boot()
    time.sleep(0.3)  # the banner is written before the port opens; opening flushes it
    with DutClient.open(dut.path, 115200) as client:
        start = time.monotonic()
        assert client.wait_ready(timeout=5).messages == ["m-name-dut-[edgeq-host]"]
        assert time.monotonic() - start < 3
        assert client.name() == "edgeq-host"


def test_device_errors_quote_the_board(booted):
    dut, host = booted("--fail-invoke")
    with pytest.raises(DeviceRefusedError) as refused:
        dut.load_input(bytes(65))
    message = str(refused.value)
    assert host.path in message and "`db load 65%`" in message and "Byte count 65 exceeds the input buffer" in message
    assert "\n" not in message and refused.value.device_message.startswith("Byte count 65")
    with pytest.raises(DeviceRefusedError, match="No input loaded"):
        dut.infer()
    dut.load_input(LOADED)
    with pytest.raises(DeviceRefusedError, match=r"`infer 3 0%` with \"Inference failed: code -7\""):
        dut.infer(3, 0)
    with pytest.raises(DeviceRefusedError) as raw:
        dut.raw()  # unknown on firmwares without raw%, "No results" on those with it
    assert raw.value.unknown_command or "No results" in raw.value.device_message
    assert dut.name() == "edgeq-host"  # errors leave the link usable


def test_timeout_while_the_board_is_busy(booted):
    dut, _ = booted(timeout=0.4, per_inference_s=0.0)
    dut.load_input(LOADED)
    start = time.monotonic()
    with pytest.raises(DeviceError) as silent:
        dut.infer(30000, 0)  # 3 s of inferences, 0.4 s allowed
    took = time.monotonic() - start
    assert 0.4 <= took < 1.5, took
    assert str(silent.value) == (
        f"the board on {dut.port_name} stopped answering after `infer 30000 0%` (no m-ready within 0.4 s); "
        "check the port and reset the board"
    )


def test_infer_timeout_scales_with_inferences(booted):
    dut, _ = booted(timeout=0.3, per_inference_s=0.002)
    dut.load_input(LOADED)
    assert dut.infer(3000, 0).n == 3000  # 0.3 s + 6 s allowed for about 0.3 s of inferences


def test_frozen_board(booted):
    dut, host = booted(timeout=0.5, per_inference_s=0.25)
    dut.load_input(LOADED)
    host.proc.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(DeviceError, match=r"stopped answering after `infer 1 1%` \(no m-ready within 1 s\)"):
            dut.infer(1, 1)
    finally:
        host.proc.send_signal(signal.SIGCONT)


def test_board_killed_mid_inference(booted):
    dut, host = booted(timeout=5)
    dut.load_input(LOADED)
    threading.Timer(0.3, host.proc.kill).start()
    start = time.monotonic()
    with pytest.raises(DeviceError, match=r"lost the connection to the board on .* after `infer 50000 0%`"):
        dut.infer(50000, 0)
    assert time.monotonic() - start < 3


def test_nobody_answers(sim_dut):
    device = sim_dut(lambda cmd: [])
    with DutClient.open(device.path, timeout=0.6) as dut:
        start = time.monotonic()
        with pytest.raises(DeviceError, match=r"stopped answering after `name%` \(no m-ready within 0.6 s\)"):
            dut.wait_ready()
        assert time.monotonic() - start < 1.5
        with pytest.raises(DeviceError, match=r"after `profile%` \(no m-ready within 0.6 s\)"):
            dut.profile()
    assert device.commands[-1] == "profile"


def test_noise_and_split_writes(sim_dut, caplog):
    sim = ProtocolSim(sum_model)
    sim.noise = sim.split = True
    device = sim_dut(sim)
    caplog.set_level(logging.DEBUG, logger="edgeq.serialdut")
    with DutClient.open(device.path, timeout=3) as dut:
        device.write(b"\x00\xff\xfeboot noise\r\nm-init-do")  # a banner cut short by a reset, then the real one
        device.write(b"\x00m-timestamp-mode-performance\r\nm-init-done\nm-ready\r\n")
        assert dut.wait_ready().messages == ["m-timestamp-mode-performance", "m-init-done"]
        assert dut.name() == "sim" and dut.profile().model_id == "sim01"
        dut.load_input(bytes(range(40)))
        result = dut.infer(4, 1)
        assert (result.latency_us, result.results) == (250.0, (7.8, 40.0))
        assert dut.raw() == bytes(range(40))[::-1]
    assert device.commands[:2] == ["name", "profile"]  # the banner was enough: no probe
    assert any("skipping noise" in r.getMessage() and "debug: tick 17" in r.getMessage() for r in caplog.records)


def test_stale_output_is_discarded(sim_dut):
    def respond(cmd: str):
        if cmd == "name":
            return [*lines("m-name-dut-[first]", "m-ready"), 0.05, *lines("m-name-dut-[late]", "m-ready")]
        return lines("m-profile-[p]", "m-model-[x]", "m-ready")

    device = sim_dut(respond)
    with DutClient(serial.serial_for_url(device.path), timeout=2) as dut:
        assert dut.name() == "first"
        time.sleep(0.2)
        assert dut.profile().model_id == "x"


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        ({"db load 16": ["m-[Expecting 8 bytes]"]}, r"`db load 16%`: the board expects 8 bytes instead"),
        ({"db 000102030405060708": ["m-load-done"]}, "m-load-done came early"),
        ({"db 090a0b0c0d0e0f": []}, "no m-load-done after the last bytes"),
        ({"name": ["m-nom-[x]"]}, r"`name%`: no m-name-dut-\[...\] line"),
    ],
)
def test_protocol_violations(sim_dut, reply, match):
    def respond(cmd: str):
        if cmd in reply:
            return lines(*reply[cmd], "m-ready")
        return ProtocolSim(sum_model)(cmd) if cmd.startswith("db load") else lines("m-ready")

    dut = DutClient.open(sim_dut(respond).path, timeout=2, chunk_bytes=9)
    with dut, pytest.raises(DeviceError, match=match):
        dut.name() if "name" in reply else dut.load_input(bytes(range(16)))


def test_open_failures(tmp_path):
    missing = tmp_path / "ttyACM9"
    with pytest.raises(DeviceError) as failed:
        DutClient.open(str(missing))
    assert str(failed.value).startswith(f"cannot open serial port {missing}: no such port")
    for code, hint in [(errno.EACCES, "dialout group"), (errno.EBUSY, "close other programs")]:
        text = open_failure("/dev/ttyACM0", serial.SerialException(code, "could not open port"))
        assert text.startswith("cannot open serial port /dev/ttyACM0:") and hint in text
    if os.geteuid() != 0:  # root opens anything
        locked = tmp_path / "locked"
        locked.write_bytes(b"")
        locked.chmod(0)
        with pytest.raises(DeviceError, match="dialout group"):
            DutClient.open(str(locked))


def test_usage_errors(sim_dut):
    with DutClient.open(sim_dut(lambda cmd: lines("m-ready")).path, timeout=1) as dut:
        for call in (
            lambda: dut.command("name%"),
            lambda: dut.command("x" * 81),
            lambda: dut.infer(0),
            lambda: dut.infer(1, -1),
            lambda: dut.load_input(b""),
            lambda: dut.load_input(b"x", chunk_bytes=39),
        ):
            with pytest.raises(UsageError):
                call()
    with pytest.raises(UsageError):
        DutClient(serial.serial_for_url("loop://"), timeout=0)
