"""Raspberry Pi 5 PMIC: parsing `vcgencmd pmic_read_adc` output and sampling it repeatedly."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from edgeq.energy.integrate import energy_between
from edgeq.energy.pi5_pmic import Pi5PmicMonitor, board_power_w, parse_pmic_adc, run_vcgencmd
from edgeq.errors import DeviceError

CAPTURE = Path(__file__).parent.parent / "fixtures" / "energy" / "pi5_pmic_read_adc.txt"


def outputs() -> list[str]:
    return CAPTURE.read_text(encoding="utf-8").split("---\n")


def test_rails_pair_current_and_voltage_by_name():
    rails = parse_pmic_adc(outputs()[0])
    assert len(rails) == 12
    assert "EXT5V" not in rails and "BATT" not in rails  # voltage only
    core = rails["VDD_CORE"]
    assert core.current_a == pytest.approx(0.92871990)
    assert core.voltage_v == pytest.approx(0.72097620)
    assert core.power_w == pytest.approx(0.92871990 * 0.72097620)


def test_board_power_is_the_sum_over_rails():
    rails = parse_pmic_adc(outputs()[0])
    assert board_power_w(rails) == pytest.approx(sum(r.current_a * r.voltage_v for r in rails.values()))
    busy = board_power_w(parse_pmic_adc(outputs()[1]))
    assert busy - board_power_w(rails) == pytest.approx((4.2 - 0.92871990) * 0.72097620)


def test_garbage_and_malformed_lines_are_skipped():
    text = "\n".join(
        [
            'error=1 error_msg="Command not registered"',
            "  VDD_CORE_A current(7)=2.00000000A",
            "  VDD_CORE_V volt(15)=0.80000000V",
            "  BAD_A volt(1)=3.0A",  # a volt line for a current rail
            "  BAD_V volt(2)=1.2.3V",
            "  NAN_A current(3)=nanA",
            "  NAN_V volt(4)=1.0V",
            "\x00\xff garbage",
        ]
    )
    rails = parse_pmic_adc(text)
    assert list(rails) == ["VDD_CORE"]
    assert board_power_w(rails) == pytest.approx(1.6)


def test_monitor_samples_by_running_the_command_repeatedly():
    feed = itertools.cycle(outputs())
    ticks = itertools.count()
    mon = Pi5PmicMonitor(runner=lambda: next(feed), interval_s=0.0, clock=lambda: next(ticks) * 0.01)
    mon.open()  # consumes the first output
    assert len(mon.rails) == 12 and "12 PMIC rails" in mon.describe()
    mon.start()
    trace = mon.stop()
    assert trace.host_clock and trace.samples >= 2
    powers = {round(p, 9) for p in trace.power_w}
    assert powers <= {round(board_power_w(parse_pmic_adc(o)), 9) for o in outputs()}
    assert energy_between(trace, trace.t_s[0], trace.t_s[-1]) > 0


def test_not_a_pi5():
    mon = Pi5PmicMonitor(runner=lambda: 'error=1 error_msg="Command not registered"\n')
    with pytest.raises(DeviceError, match="needs a Raspberry Pi 5"):
        mon.open()


def test_missing_vcgencmd():
    with pytest.raises(DeviceError, match="edgeq-no-such-vcgencmd not found: pi5-pmic needs a Raspberry Pi 5"):
        run_vcgencmd(("edgeq-no-such-vcgencmd", "pmic_read_adc"))


def test_failing_vcgencmd():
    with pytest.raises(DeviceError, match="failed: VCHI initialization failed"):
        run_vcgencmd(("sh", "-c", "echo 'VCHI initialization failed' >&2; exit 255"))
    assert "VDD_CORE_A" in run_vcgencmd(("cat", str(CAPTURE)))
