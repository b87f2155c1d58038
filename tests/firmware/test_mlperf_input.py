"""``edgeq build --mlperf``: the model id the firmware reports and the input each benchmark sends.

The MLPerf Tiny runner loads ad01 windows as 640 float32 values (2560 bytes); the reference
firmware quantizes them itself, round(v / scale) + zero_point with the float32 quotient
rounded half away from zero, clamped to int8. These tests render the engine glue for the
ad01 autoencoder, link it on the host (skeleton_host.c on a pty) and check that a float
load runs exactly like the int8 load the same rule gives, and that the MSE is taken
against the float input, as the reference does.

For ic01 and vww01 the runner sends image pixels, one byte 0..255 each, and the reference
firmware feeds its int8 model p - 128: the same host build of the IC ResNet-8 must give
tflite-micro's output bytes for that int8 input.
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

from edgeq.errors import UsageError
from edgeq.firmware.glue import engine_files, float_input, protocol_files, uint8_image_input
from edgeq.firmware.manifest import read_manifest
from tests.conftest import FIXTURES
from tests.firmware.conftest import CONV, KWS, tflm_output_bytes

HERE = Path(__file__).resolve().parent
AD = FIXTURES / "zoo" / "ad_autoencoder" / "int8.tflite"
IC = FIXTURES / "zoo" / "ic_resnet8" / "int8.tflite"
FLOAT_IO = FIXTURES / "ops" / "float_io_conv.tflite"
C_FLAGS = ["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror"]
TIMEOUT = 20.0
APP_MAIN = '#include "edgeq_engine_glue.h"\nvoid app_main(void);\nvoid app_main(void) { edgeq_engine_serve(0); }\n'


def quantize_like_reference(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """round(v / scale) + zero_point: float32 quotient, halves away from zero, clamped to int8."""
    x = (values.astype(np.float32) / np.float32(scale)).astype(np.float64)
    rounded = np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5))
    return np.clip(rounded + zero_point, -128, 127).astype(np.int8)


def host_exe(folder: Path, mlperf: str, out: Path) -> Path:
    """The engine in ``folder`` + protocol + glue rendered with --mlperf ``mlperf``, built with gcc for the host."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    files: dict[str, str | bytes] = {**engine_files(folder), **protocol_files(read_manifest(folder), mlperf)}
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


@pytest.fixture(scope="module")
def ad_exe(engine, tmp_path_factory) -> Path:
    """The ad01 autoencoder's engine with the glue of --mlperf ad01, built for the host."""
    return host_exe(engine(AD), "ad01", tmp_path_factory.mktemp("ad01_host"))


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


def pixels(n: int, seed: int) -> np.ndarray:
    """``n`` pixel bytes as the runner sends them, both ends of 0..255 included."""
    values = np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8)
    values[:4] = [0, 127, 128, 255]
    return values


def test_image_benchmarks_take_pixel_bytes(engine):
    manifest = read_manifest(engine(IC))
    (tensor,) = manifest.inputs
    assert (tensor.dtype, tensor.zero_point) == ("int8", -128)
    assert uint8_image_input(manifest, "ic01") and uint8_image_input(manifest, "vww01")
    assert not uint8_image_input(manifest, "kws01") and not uint8_image_input(manifest)
    assert "copy_pixels_as_int8" in protocol_files(manifest, "vww01")["edgeq_engine_glue.c"]
    assert "copy_pixels_as_int8" not in protocol_files(manifest, "kws01")["edgeq_engine_glue.c"]


@pytest.mark.parametrize(
    ("model", "problem"),
    [(CONV, "one int8 input with zero point -1"), (FLOAT_IO, "one float32 input without quantization")],
)
def test_image_benchmarks_refuse_inputs_pixels_do_not_fit(engine, model, problem):
    manifest = read_manifest(engine(model))
    with pytest.raises(UsageError, match=f"--mlperf vww01: .* has {problem}: convert the model") as err:
        protocol_files(manifest, "vww01")
    assert "\n" not in str(err.value)
    assert not uint8_image_input(read_manifest(engine(KWS)), "kws01")  # KWS sends int8 features as they are


def test_ic01_subtracts_128_on_the_board(engine, tmp_path):
    exe = host_exe(engine(IC), "ic01", tmp_path)
    (tensor,) = read_manifest(engine(IC)).inputs
    sample = pixels(tensor.elements, seed=7)
    as_int8 = (sample.astype(np.int16) - 128).astype(np.int8)
    reference = tflm_output_bytes(IC, [as_int8.reshape(1, *tensor.shape[1:])])
    with serving(exe) as dut:
        assert dut.profile().model_id == "ic01"
        dut.load_input(sample.tobytes())  # 3072 bytes, as the MLPerf Tiny runner sends a CIFAR-10 image
        dut.infer(1, 0)
        assert dut.raw() == reference
        dut.infer(2, 1)  # every invoke converts the loaded pixels again, never the converted bytes
        assert dut.raw() == reference
