"""``edgeq build --mlperf``: the model id the firmware reports and the float32 input of ad01.

The MLPerf Tiny runner loads ad01 windows as 640 float32 values (2560 bytes); the reference
firmware quantizes them itself, round(v / scale) + zero_point with the float32 quotient
rounded half away from zero, clamped to int8. These tests render the engine glue for the
ad01 autoencoder, link it on the host (skeleton_host.c on a pty) and check that a float
load runs exactly like the int8 load the same rule gives, and that the MSE is taken
against the float input, as the reference does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tty
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from edgeq.firmware.glue import engine_files, float_input, protocol_files
from edgeq.firmware.manifest import read_manifest
from tests.conftest import FIXTURES

HERE = Path(__file__).resolve().parent
AD = FIXTURES / "zoo" / "ad_autoencoder" / "int8.tflite"
C_FLAGS = ["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror"]
TIMEOUT = 20.0
APP_MAIN = '#include "edgeq_engine_glue.h"\nvoid app_main(void);\nvoid app_main(void) { edgeq_engine_serve(0); }\n'


def quantize_like_reference(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """round(v / scale) + zero_point: float32 quotient, halves away from zero, clamped to int8."""
    x = (values.astype(np.float32) / np.float32(scale)).astype(np.float64)
    rounded = np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5))
    return np.clip(rounded + zero_point, -128, 127).astype(np.int8)


@pytest.fixture(scope="module")
def ad_exe(engine, tmp_path_factory) -> Path:
    """The ad01 autoencoder's engine + protocol + glue rendered with --mlperf ad01, built with gcc for the host."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    folder = engine(AD)
    out = tmp_path_factory.mktemp("ad01_host")
    files: dict[str, str | bytes] = {**engine_files(folder), **protocol_files(read_manifest(folder), "ad01")}
    files["app_main.c"] = APP_MAIN
    for name, data in files.items():
        (out / name).write_bytes(data.encode() if isinstance(data, str) else data)
    sources = sorted(str(p) for p in out.glob("*.c")) + [str(HERE / "skeleton_host.c")]
    exe = out / "dut"
    done = subprocess.run(
        [gcc, *C_FLAGS, "-DEDGEQ_HOST_APP_MAIN", f"-I{out}", *sources, "-lm", "-o", str(exe)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return exe


@contextlib.contextmanager
def serving(exe: Path) -> Iterator:
    pytest.importorskip("serial")
    from edgeq.serialdut.client import DutClient

    master, slave = os.openpty()
    tty.setraw(slave)
    client = DutClient.open(os.ttyname(slave), timeout=TIMEOUT)
    os.close(slave)
    proc = subprocess.Popen([str(exe)], stdin=master, stdout=master, stderr=subprocess.PIPE)
    os.close(master)
    try:
        client.wait_ready()
        yield client
        client.close()
        _, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0 and not err, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=TIMEOUT)


def test_float_input_is_on_for_ad01_and_autoencoders(engine):
    manifest = read_manifest(engine(AD))
    assert float_input(manifest, "ad01") and float_input(manifest)  # an autoencoder: on by default
    assert not float_input(manifest, "kws01")
    text = protocol_files(manifest, "kws01")["edgeq_engine_glue.c"]
    assert '"kws01"' in text and "FLOAT_INPUT_BYTES" not in text
    assert '"net"' in protocol_files(manifest)["edgeq_engine_glue.c"]


def test_ad01_quantizes_float_input_on_the_board(engine, ad_exe):
    manifest = read_manifest(engine(AD))
    (tensor,) = manifest.inputs
    assert (tensor.dtype, tensor.elements) == ("int8", 640)
    scale, zero_point = tensor.scale, tensor.zero_point
    rng = np.random.default_rng(5)
    values = rng.uniform(-80.0, 10.0, 640).astype(np.float32)
    # exact halves of the quotient, both signs, and values beyond the int8 range (clamped)
    k = np.arange(-20, 20, dtype=np.float32)
    values[:40] = ((k + np.float32(0.5)) * np.float32(scale)).astype(np.float32)
    values[40:44] = [1e6, -1e6, 300 * scale, -300 * scale]
    quantized = quantize_like_reference(values, scale, zero_point)
    with serving(ad_exe) as dut:
        assert dut.profile().model_id == "ad01"
        assert dut.input_bytes_from_help() == 640
        dut.load_input(quantized.tobytes())
        from_int8 = dut.infer(1, 0)
        raw_int8 = dut.raw()
        dut.load_input(values.astype("<f4").tobytes())  # 2560 bytes, as the MLPerf Tiny runner sends
        from_float = dut.infer(1, 0)
        assert dut.raw() == raw_int8  # the board quantized exactly like the reference rule
        dut.infer(2, 1)  # the quantized input is copied in on every invoke
        assert dut.raw() == raw_int8
    output = read_manifest(engine(AD)).outputs[0]
    reconstruction = output.scale * (np.frombuffer(raw_int8, np.int8).astype(np.float64) - output.zero_point)
    # MSE against the float input (the reference's), and against the dequantized int8 input for an int8 load
    mse_float = float(np.mean((reconstruction - values.astype(np.float64)) ** 2))
    mse_int8 = float(np.mean((reconstruction - scale * (quantized.astype(np.float64) - zero_point)) ** 2))
    assert from_float.results == pytest.approx((mse_float,), rel=1e-4, abs=1e-3)
    assert from_int8.results == pytest.approx((mse_int8,), rel=1e-4, abs=1e-3)


def test_other_lengths_are_refused(ad_exe):
    from edgeq.serialdut.link import DeviceRefusedError

    with serving(ad_exe) as dut:
        with pytest.raises(DeviceRefusedError, match="exceeds the input buffer"):
            dut.load_input(bytes(2561))
        dut.load_input(bytes(1280))
        with pytest.raises(DeviceRefusedError, match="Model rejected the input"):
            dut.infer(1, 0)
