"""The ``serial`` target end to end: host_dut on a pty, and simulated devices running a real model."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from edgeq.errors import DeviceError, UsageError
from edgeq.metrics import file_score, roc_auc
from edgeq.serialdut import client as client_module
from edgeq.serialdut.dataset import load_mlperf_dataset
from edgeq.serialdut.link import DeviceRefusedError
from edgeq.targets import get_target
from edgeq.targets.serial import ENV_BAUD, ENV_PORT, SerialProfile, SerialTarget
from tests.conftest import FIXTURES
from tests.serialdut.harness import ProtocolSim, sum_model

TWO_INPUT = (FIXTURES / "tflite" / "two_input_int8.tflite").read_bytes()  # inputs b, a: int8 (1, 8); out int8 (1, 4)
FLOAT_ADD = (FIXTURES / "ops" / "float_io_add.tflite").read_bytes()  # float32 (1, 4, 5, 3) x 2 -> (1, 4, 5, 3)
CONV = (FIXTURES / "tflite" / "conv_int8.tflite").read_bytes()  # 768 input bytes


@pytest.fixture(autouse=True)
def _fast_probe(monkeypatch):
    """The devices here are up before the target opens the port: probe at once instead of after 1 s."""
    monkeypatch.setattr(client_module, "PROBE_S", 0.05)


@pytest.fixture
def running(host_dut):
    """running(*flags) -> the pty path of a booted host_dut."""

    def _run(*flags: str) -> str:
        dut = host_dut(*flags)
        dut.boot()
        return dut.path

    return _run


@pytest.fixture(scope="module")
def echo_model() -> bytes:
    """two_input_int8 with host_dut's raw outputs: echo int8 (1, 16), recon int8 (16,), count int64 (1, 1)."""
    from tests.conftest import generated_schema, repack

    fbs = generated_schema()

    def edit(model) -> None:
        graph, first = model.subgraphs[0], len(model.subgraphs[0].tensors)
        for name, shape, dtype in [("echo", [1, 16], "INT8"), ("recon", [16], "INT8"), ("count", [1, 1], "INT64")]:
            tensor = fbs.TensorT()
            tensor.name, tensor.shape, tensor.type, tensor.buffer = (
                name.encode(),
                shape,
                getattr(fbs.TensorType, dtype),
                0,
            )
            graph.tensors.append(tensor)
        graph.outputs = [first, first + 1, first + 2]

    return repack(TWO_INPUT, edit)


def _two_inputs(count: int, seed: int = 3, high: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-high if high > 2 else 0, high, (count, 8)).astype(np.int8) for _ in range(2)]


def test_run_reads_raw_outputs(running, echo_model):
    inputs = _two_inputs(3, high=128)
    echo, recon, count = SerialTarget(running(), timeout=5).run(echo_model, inputs)
    loaded = np.concatenate(inputs, axis=1)  # all inputs of a sample, in graph order (b, a)
    np.testing.assert_array_equal(echo, loaded)
    np.testing.assert_array_equal(recon, np.trunc(loaded / 3).astype(np.int8))  # C division truncates
    assert count.dtype == np.int64 and count.tolist() == [[1], [2], [3]]


def test_run_falls_back_to_results(running, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="edgeq.serialdut")
    inputs = _two_inputs(4)
    monkeypatch.delenv(ENV_PORT, raising=False)
    with pytest.raises(UsageError, match=ENV_PORT):
        get_target("serial").run(TWO_INPUT, inputs)
    monkeypatch.setenv(ENV_PORT, running("--no-raw"))
    monkeypatch.setenv(ENV_BAUD, "fast")
    with pytest.raises(UsageError, match="is not a baud rate"):
        get_target("serial").run(TWO_INPUT, inputs)
    monkeypatch.setenv(ENV_BAUD, "921600")
    (out,) = get_target("serial").run(TWO_INPUT, inputs)
    loaded = np.concatenate(inputs, axis=1).astype(np.float64)
    values = np.stack([loaded.sum(1) / 100, loaded.max(1), loaded.min(1), np.arange(1, 5)], axis=1)
    expected = np.clip(np.round(np.round(values, 3) / 0.013348792679607868) + 18, -128, 127)
    assert out.dtype == np.int8 and out.shape == (4, 4)
    np.testing.assert_array_equal(out, expected)
    assert any("has no raw% command" in r.getMessage() for r in caplog.records)


def test_mismatched_boards(running, echo_model):
    with pytest.raises(DeviceError, match="the board sent 40 output bytes but the model's outputs take 4"):
        SerialTarget(running()).run(TWO_INPUT, _two_inputs(1))
    with pytest.raises(DeviceRefusedError, match="Unknown command: raw"):
        SerialTarget(running("--no-raw"), readout="raw").run(echo_model, _two_inputs(1))
    with pytest.raises(DeviceError, match="reported 4 result values but the model has 33 output values"):
        SerialTarget(running("--no-raw"), readout="results").run(echo_model, _two_inputs(1))
    path = running()
    with pytest.raises(DeviceError) as wrong:
        SerialTarget(path).run(CONV, [np.zeros((1, 16, 16, 3), np.int8)])
    assert str(wrong.value) == (
        f"the board on {path} runs model 'test01' taking 16 input bytes, but this model's inputs take 768 bytes; "
        "flash the firmware built for this model"
    )


def test_mlperf_model_id_checks_the_input_size(sim_dut):
    sim = ProtocolSim(sum_model, model_id="kws01", input_bytes=490)
    sim.handlers["help"] = lambda tokens: ["Unknown command: help, says a terse firmware"]
    device = sim_dut(sim)
    with pytest.raises(DeviceError, match="runs model 'kws01' taking 490 input bytes, but .* take 16 bytes"):
        SerialTarget(device.path).run(TWO_INPUT, _two_inputs(1))
    assert not any(c.startswith("db") for c in device.commands)  # refused before loading anything


def _litert_dut(model: bytes):
    """A ProtocolSim model function that runs ``model`` with LiteRT on the loaded bytes."""
    from edgeq.model import read_model
    from edgeq.model.io import model_inputs, split_sample

    HOST = get_target("host")

    graph = read_model(model)

    def run(data: bytes) -> tuple[bytes, list[float]]:
        outputs = HOST.run(model, [a[None] for a in split_sample(data, model_inputs(graph))])
        flat = np.concatenate([o.reshape(-1) for o in outputs]).astype(np.float64)
        return b"".join(o.tobytes() for o in outputs), flat.tolist()

    return run


def test_raw_outputs_match_litert(sim_dut):
    pytest.importorskip("ai_edge_litert")
    HOST = get_target("host")

    sim = ProtocolSim(_litert_dut(FLOAT_ADD), input_bytes=480, capacity=480)
    sim.noise = True
    rng = np.random.default_rng(5)
    inputs = [rng.normal(size=(3, 4, 5, 3)).astype(np.float32) for _ in range(2)]
    (out,) = SerialTarget(sim_dut(sim).path, timeout=5).run(FLOAT_ADD, inputs)
    assert out.dtype == np.float32 and out.shape == (3, 4, 5, 3)
    np.testing.assert_array_equal(out, HOST.run(FLOAT_ADD, inputs)[0])  # 240 bytes: 8 m-raw lines each


def test_results_readout_warns_when_inexact(sim_dut, caplog):
    pytest.importorskip("ai_edge_litert")
    sim = ProtocolSim(_litert_dut(FLOAT_ADD), input_bytes=480, capacity=480)
    sim.raw = False
    inputs = [np.full((1, 4, 5, 3), v, np.float32) for v in (0.25, 0.125)]
    (out,) = SerialTarget(sim_dut(sim).path, chunk_bytes=26).run(FLOAT_ADD, inputs)
    HOST = get_target("host")

    np.testing.assert_allclose(out, HOST.run(FLOAT_ADD, inputs)[0], atol=0.0005)  # 3 decimals
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1 and "exact only for output scales above 0.002" in warning[0] and "float32" in warning[0]


def test_time_windows(running):
    inputs = _two_inputs(2)
    profile = SerialTarget(running()).time_windows(inputs, runs=5, warmup=1, model=TWO_INPUT)
    assert (profile.runs, profile.warmup, len(profile.laps)) == (5, 1, 2)
    assert all(t1 > t0 for t0, t1 in profile.laps) and min(profile.latency_us) >= 100  # 100 us per inference
    assert profile.stats.runs == 2 and profile.stats.mean >= 0.1  # milliseconds
    raw = SerialTarget(running()).time_windows([bytes(16)], runs=2, warmup=0)
    assert len(raw.latency_us) == 1
    with pytest.raises(DeviceError, match="no m-lap-us timestamps: it is in energy mode"):
        SerialTarget(running("--energy")).time_windows([bytes(16)], runs=2)
    with pytest.raises(UsageError, match="needs the model"):
        SerialTarget(running()).time_windows(inputs)
    with pytest.raises(UsageError):
        SerialProfile(0, 0, ((1, 2),))


def test_profile_times_each_run_with_the_board_timer(running):
    sample = [x[:1] for x in _two_inputs(1)]
    timing = SerialTarget(running()).profile(TWO_INPUT, sample, runs=4, warmup=1)
    assert len(timing.ms) == 4 and min(timing.ms) >= 0.1  # host_dut spends 100 us per inference
    assert "m-lap-us" in timing.latency_source


def test_anomaly_dataset_end_to_end(running, tmp_path):
    """An ad01-style dataset folder (windows and strides) scored with the MSE the DUT reports."""
    rng = np.random.default_rng(9)
    rows = []
    for i in range(6):
        label = i % 2  # the test model reconstructs multiples of 3 exactly: those are "normal"
        data = (rng.integers(-40, 40, 32) * 3 + label * rng.integers(0, 3, 32)).astype(np.int8).tobytes()
        (tmp_path / f"f{i}.bin").write_bytes(data)
        rows.append(f"f{i}.bin, 2, {label}, 16, 8")
    (tmp_path / "y_labels.csv").write_text("\n".join(rows) + "\n")
    dataset = load_mlperf_dataset(tmp_path)
    windows = [sample.windows() for sample in dataset.samples]
    assert [len(w) for w in windows] == [3] * 6
    results = SerialTarget(running("--mse")).dut_results([w for ws in windows for w in ws])
    assert all(len(r) == 1 for r in results)
    x = np.frombuffer(windows[1][2], np.int8).astype(np.float64)
    assert results[5][0] == pytest.approx(np.mean((np.trunc(x / 3) * 0.75 - x * 0.25) ** 2), abs=0.0005)
    scores = [file_score([r[0] for r in results[3 * i : 3 * i + 3]]) for i in range(6)]
    assert roc_auc(np.array(scores), dataset.labels) == 1.0


def test_options():
    with pytest.raises(UsageError, match="unknown readout"):
        SerialTarget("/dev/null", readout="floats")
    empty = SerialTarget("/dev/nonexistent").run(TWO_INPUT, [np.zeros((0, 8), np.int8)] * 2)
    assert [(o.shape, o.dtype) for o in empty] == [((0, 4), np.int8)]
