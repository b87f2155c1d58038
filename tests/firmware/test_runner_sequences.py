"""The MLPerf Tiny runner's three test scripts, sent to the firmware's protocol as the runner sends them.

The runner's scripts per mode (written here from the protocol, not copied):

* accuracy: for every file, ``download`` (``db load N`` then 31-byte ``db HEX``
  chunks) and ``infer 1 0``;
* performance: five times ``download`` and ``infer N W`` (kws01: 70 10,
  ic01/vww01: 20 5, ad01: 1500 10);
* energy: the same through the interface board, which relays each command with
  a ``dut `` prefix and carries 26 bytes per ``db`` chunk; timestamps are
  falling edges of the timestamp pin, so no ``m-lap-us`` lines.

Each reply is read back the way the runner reads it: the ``m-results-[...]``
line is split on commas (empty items ignored) into floats, the first and the
second ``m-lap-us-N`` line are the start and end times. The firmware here is
host_dut.c (edgeq_dut.c on a pty with a 16-byte test model), so every script
also runs under AddressSanitizer/UBSan.
"""

from __future__ import annotations

import re

import pytest

from tests.firmware.test_dut_protocol import LOADED, exe, start  # noqa: F401 - fixtures

RESULTS = re.compile(r"^m-results-\[([^]]+)\]$")
LAP = re.compile(r"^m-lap-us-([0-9]+)$")


def runner_view(lines: list[str], energy: bool) -> dict[str, object]:
    """What the runner takes from one ``infer`` reply: results, start/end time, inference count."""
    view: dict[str, object] = {"total_inferences": 0}
    for line in lines:
        if match := RESULTS.match(line):
            view["results"] = [float(item) for item in match.group(1).split(",") if item.strip()]
            view["total_inferences"] = int(view["total_inferences"]) + 1  # type: ignore[call-overload]
        elif match := LAP.match(line):
            view["end_time" if "start_time" in view else "start_time"] = int(match.group(1))
    if not energy:
        assert "start_time" in view and "end_time" in view, lines
        view["elapsed_time"] = int(view["end_time"]) - int(view["start_time"])  # type: ignore[call-overload]
    return view


def download(dut, data: bytes, chunk: int, prefix: str = "") -> None:
    """The runner's download step: every reply must end in m-ready without an error line."""
    replies = [dut.command(f"{prefix}db load {len(data)}")]
    for start_at in range(0, len(data), chunk):
        replies.append(dut.command(f"{prefix}db " + data[start_at : start_at + chunk].hex()))
    assert all(not line.startswith("e-") for reply in replies for line in reply), replies
    assert replies[-1] == ["m-load-done", "m-ready"]


def _files(count: int) -> list[bytes]:
    """Inputs the test model accepts (bytes 200..215 in some order, as host_dut.c checks)."""
    return [bytes(LOADED[(i + k) % 16] for i in range(16)) for k in range(count)]


def test_accuracy_script(start):  # noqa: F811 - the fixture
    dut = start()
    assert dut.command("name")[0].startswith("m-name-dut-[")
    profile = dut.command("profile")
    assert any(line.startswith("m-model-[") for line in profile)
    for data in _files(4):
        download(dut, data, chunk=31)
        view = runner_view(dut.command("infer 1 0"), energy=False)
        assert view["total_inferences"] == 1 and len(view["results"]) == 4  # type: ignore[arg-type]
        assert view["results"][0] == pytest.approx(sum(data) / 100, abs=5e-4)  # type: ignore[index]
        assert int(view["elapsed_time"]) >= 100  # type: ignore[call-overload] # the model spends 100 us


@pytest.mark.parametrize(("iterations", "warmups"), [(70, 10), (20, 5)])
def test_performance_script(start, iterations, warmups):  # noqa: F811 - the fixture
    dut = start()
    for data in _files(5):
        download(dut, data, chunk=31)
        lines = dut.command(f"infer {iterations} {warmups}")
        assert lines[:3] == [f"m-warmup-start-{warmups}", "m-warmup-done", f"m-infer-start-{iterations}"]
        view = runner_view(lines, energy=False)
        assert view["total_inferences"] == 1
        assert int(view["elapsed_time"]) >= 100 * iterations  # type: ignore[call-overload]


def test_energy_script_through_the_interface_board(start):  # noqa: F811 - the fixture
    dut = start("--energy", banner=False)
    assert dut.reply()[0] == "m-timestamp-mode-energy"
    assert dut.command("dut name")[0].startswith("m-name-dut-[")
    for data in _files(5):
        download(dut, data, chunk=26, prefix="dut ")
        lines = dut.command("dut infer 20 0")
        assert not any(LAP.match(line) for line in lines), lines
        view = runner_view(lines, energy=True)
        assert view["total_inferences"] == 1 and len(view["results"]) == 4  # type: ignore[arg-type]
    stderr = dut.close()
    # the boot edge, then one falling edge at the start and one at the end of each window of 20 inferences
    assert stderr.split() == ["pin-1", "pin-0", "pin-1"] + ["pin-0", "pin-1"] * 10
