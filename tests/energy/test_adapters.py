"""PPK2 and Joulescope adapters: the missing-package errors and the conversion of their sample arrays.

The arrays below are written by hand in the shapes the packages document: ``PPK2_API.get_samples``
returns (microamperes, logic byte per sample) at 100 kHz; Joulescope ``samples_get`` returns a dict
with ``time.sampling_frequency`` and ``signals.<field>.value`` arrays (NaN for missing samples).
The stand-ins for the device objects only replay such arrays through the packages' public calls.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from edgeq.energy.integrate import energy_per_inference_j, energy_total
from edgeq.energy.joulescope_js import JoulescopeMonitor, joulescope_trace, load_joulescope
from edgeq.energy.ppk2 import Ppk2Monitor, load_api, ppk2_trace
from edgeq.errors import DependencyError, DeviceError, UsageError


def _ppk2_recording() -> tuple[list[float], list[int]]:
    """10 ms at 100 kHz: 200 uA idle, 5 mA for samples 300..799; D0 high, low at 300 and at 800 (two edges)."""
    ua = [200.0] * 1000
    ua[300:800] = [5000.0] * 500
    bits = [0b1001] * 1000  # D0 and D3 high
    bits[300], bits[800] = 0b1000, 0b1000
    return ua, bits


def test_ppk2_missing_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "ppk2_api", None)
    monkeypatch.setitem(sys.modules, "ppk2_api.ppk2_api", None)
    with pytest.raises(DependencyError, match="pip install ppk2-api"):
        load_api()
    with pytest.raises(DependencyError, match="pip install ppk2-api"):
        Ppk2Monitor("/dev/ttyACM2").open()


def test_ppk2_microamps_to_power_and_edges():
    ua, bits = _ppk2_recording()
    trace = ppk2_trace(ua, 3.0, bits, edge_channel=0)
    assert trace.samples == 1000 and trace.t_s[1] == pytest.approx(1e-5)
    assert trace.current_a[0] == pytest.approx(200e-6) and trace.power_w[300] == pytest.approx(15e-3)
    assert trace.edges_s == pytest.approx((300e-5, 800e-5))
    # between the edges: samples 300..799 at 5 mA, then one trapezoid down to 200 uA
    expected = 3.0 * (5e-3 * 499e-5 + (5e-3 + 200e-6) / 2 * 1e-5)
    assert energy_per_inference_j(trace, 2) == pytest.approx(expected / 2)
    assert ppk2_trace(ua, 3.0, bits, edge_channel=3).edges_s == ()


class _Ppk2StandIn:
    """Replays recorded get_samples() output through the PPK2_API calls the adapter makes."""

    def __init__(self, port, **kwargs):
        self.port, self.kwargs, self.calls = port, kwargs, []
        self.chunks = [b"chunk1", b"chunk2"]

    def __getattr__(self, name):
        return lambda *args: self.calls.append((name, *args))

    def get_data(self):
        return self.chunks.pop(0) if self.chunks else b""

    def get_samples(self, data):
        ua, bits = _ppk2_recording()
        half = slice(0, 500) if data == b"chunk1" else slice(500, 1000)
        return ua[half], bits[half]


def test_ppk2_monitor_flow():
    made = []

    def api_class(port, **kwargs):
        made.append(_Ppk2StandIn(port, **kwargs))
        return made[-1]

    mon = Ppk2Monitor("/dev/ttyACM2", voltage_v=3.0, edge_channel=0, api_class=api_class, poll_s=0.001)
    mon.start()
    trace = mon.stop()
    api = made[0]
    assert [c[0] for c in api.calls] == [
        "get_modifiers",
        "set_source_voltage",
        "use_source_meter",
        "toggle_DUT_power",
        "start_measuring",
        "stop_measuring",
    ]
    assert api.calls[1] == ("set_source_voltage", 3000) and api.calls[3] == ("toggle_DUT_power", "ON")
    assert trace.samples == 1000 and len(trace.edges_s) == 2
    assert mon.describe() == "ppk2 on /dev/ttyACM2 (source meter, 3.000 V, 100 kHz, timestamp edges on D0)"


def test_ppk2_bad_settings():
    with pytest.raises(UsageError, match="allowed: source, ampere"):
        Ppk2Monitor("/dev/ttyACM2", mode="volt")
    with pytest.raises(UsageError, match="d0..d7"):
        Ppk2Monitor("/dev/ttyACM2", edge_channel=8)


def _js_data(rate=1000.0):
    current = np.full(100, 0.002)
    current[40:60] = 0.05
    current[10] = np.nan  # a missing sample
    gpi = np.ones(100, dtype=np.uint8)
    gpi[40], gpi[60] = 0, 0
    return {
        "time": {"sampling_frequency": {"value": rate, "units": "Hz"}, "sample_id_range": {"value": [0, 100]}},
        "signals": {
            "current": {"value": current.astype(np.float32), "units": "A"},
            "voltage": {"value": np.full(100, 3.3, dtype=np.float32), "units": "V"},
            "current_lsb": {"value": gpi, "units": ""},
        },
    }


def test_joulescope_missing_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "joulescope", None)
    with pytest.raises(DependencyError, match="pip install joulescope"):
        load_joulescope()
    with pytest.raises(DependencyError, match="pip install joulescope"):
        JoulescopeMonitor().open()


def test_joulescope_samples_to_power_and_edges():
    trace = joulescope_trace(_js_data(), edge_field="current_lsb")
    assert trace.samples == 99 and trace.notes == ("left out 1 missing samples",)
    assert trace.edges_s == pytest.approx((0.040, 0.060))
    assert trace.power_w[-1] == pytest.approx(0.002 * 3.3, rel=1e-6)
    expected = 3.3 * (0.05 * 0.019 + (0.05 + 0.002) / 2 * 0.001)
    assert energy_per_inference_j(trace, 4) == pytest.approx(expected / 4, rel=1e-6)
    assert energy_total(joulescope_trace(_js_data())) > 0


class _StreamBuffer:
    sample_id_range = (0, 100)

    def __init__(self):
        self.fields = None

    def samples_get(self, start, stop, fields=None):
        self.fields = fields
        return _js_data()


class _JoulescopeStandIn:
    def __init__(self):
        self.calls, self.buffer_duration, self.stream_buffer = [], None, _StreamBuffer()

    def __getattr__(self, name):
        return lambda *args: self.calls.append((name, *args))


def test_joulescope_monitor_flow():
    device = _JoulescopeStandIn()
    mon = JoulescopeMonitor(freq=1000, edge_input="gpi0", buffer_s=60, scan=lambda config: device)
    mon.start()
    trace = mon.stop()
    mon.close()
    assert device.buffer_duration == 60
    assert [c[0] for c in device.calls] == ["open", "parameter_set", "parameter_set", "start", "stop", "close"]
    assert ("parameter_set", "current_lsb", "gpi0") in device.calls
    assert device.stream_buffer.fields == ["current", "voltage", "current_lsb"]
    assert len(trace.edges_s) == 2


def test_joulescope_not_found():
    def scan(config):
        raise RuntimeError("no devices found")

    with pytest.raises(DeviceError, match=r"no single Joulescope found \(no devices found\)"):
        JoulescopeMonitor(scan=scan).open()
