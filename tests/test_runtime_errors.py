"""What each runtime refuses reaches the user as one ``error:`` line, never a traceback.

The models are readable by edgeq but refused by one runtime: LiteRT's flatbuffer
verifier, its Python API (a tensor name that is not UTF-8), its XNNPACK delegate,
or TFLM's op resolver. They run through the real ``edgeq`` command in a child
process, so anything the runtime prints or a crash would be seen.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgeq.batch_run import run
from edgeq.errors import ModelFormatError, UnsupportedError
from edgeq.litert import Runner
from edgeq.worker import failure_message, worker_command
from tests.conftest import repack
from tests.corrupt_models import CONV_INT8, non_utf8_name, tile_model, unterminated_string

EDGEQ = Path(sys.executable).with_name("edgeq")


def edgeq(*args: str) -> subprocess.CompletedProcess:
    cmd = [str(EDGEQ)] if EDGEQ.exists() else [sys.executable, "-m", "edgeq"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300)


def one_error_line(done: subprocess.CompletedProcess) -> str:
    """The single ``error:`` line of a failed command (and no traceback in its stderr)."""
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "^^^" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def run_cli(tmp_path: Path, data: bytes, target: str, inputs: list[np.ndarray]) -> subprocess.CompletedProcess:
    model = tmp_path / "model.tflite"
    model.write_bytes(data)
    np.savez(tmp_path / "in.npz", *inputs)
    return edgeq(
        "run", str(model), "--target", target, "--input", str(tmp_path / "in.npz"), "-o", str(tmp_path / "o.npz")
    )


def image(n: int = 2) -> list[np.ndarray]:
    return [np.random.default_rng(3).integers(-128, 128, (n, 16, 16, 3)).astype(np.int8)]


def bias_zero_point() -> bytes:
    """conv_int8 with a zero point in one channel of a per-channel bias, which XNNPACK refuses (TFLM ignores it)."""

    def edit(model):
        q = model.subgraphs[0].tensors[5].quantization
        q.zeroPoint = np.array(q.zeroPoint)
        q.zeroPoint[7] = 14090240

    return repack(CONV_INT8.read_bytes(), edit)


# ---- LiteRT (host) ----


def test_litert_verifier_refusal(tmp_path):
    line = one_error_line(run_cli(tmp_path, unterminated_string(), "host", image()))
    assert line == "error: ai-edge-litert could not load the model: The model is not a valid Flatbuffer buffer"
    with pytest.raises(ModelFormatError, match="not a valid Flatbuffer"):
        Runner(unterminated_string())


def test_litert_non_utf8_tensor_name(tmp_path):
    line = one_error_line(run_cli(tmp_path, non_utf8_name(), "host", image()))
    assert line.startswith("error: ai-edge-litert could not read the model's inputs and outputs: 'utf-8' codec")


def test_litert_delegate_refusal(tmp_path):
    line = one_error_line(run_cli(tmp_path, bias_zero_point(), "host", image()))
    assert line.startswith("error: ai-edge-litert could not prepare the model: unsupported zero-point value (14090240)")


def test_what_litert_refuses_tflm_and_the_engine_run_alike(tmp_path):
    """Validation is about bounds: these models are fine for TFLM, so the engine runs them too, bit for bit."""
    pytest.importorskip("tflite_micro")
    if shutil.which("gcc") is None:
        pytest.skip("host gcc is not installed")
    for k, data in enumerate((unterminated_string(), bias_zero_point())):
        model = tmp_path / f"m{k}.tflite"
        model.write_bytes(data)
        tflm = run(model, "host-tflm", image(4)).outputs
        engine = run(model, "host-c", image(4)).outputs
        assert [o.tobytes() for o in engine] == [o.tobytes() for o in tflm]


# ---- tflite-micro (host-tflm) ----


def test_tflm_names_a_missing_op_before_starting(tmp_path):
    x = np.zeros((1, 4, 5, 3), np.int8)
    model = tmp_path / "tile.tflite"
    model.write_bytes(tile_model())
    with pytest.raises(UnsupportedError, match=r"^op TILE has no kernel in TensorFlow Lite Micro"):
        run(model, "host-tflm", [x, x])
    line = one_error_line(run_cli(tmp_path, tile_model(), "host-tflm", [x, x]))
    assert "op TILE has no kernel in TensorFlow Lite Micro" in line


@pytest.mark.parametrize("job", ["outputs", "time"])
def test_tflm_child_reports_one_line_naming_the_op(tmp_path, job):
    """Without the check up front, the child itself names the op TFLM's log complained about."""
    pytest.importorskip("tflite_micro")
    (tmp_path / "model.tflite").write_bytes(tile_model())
    x = np.zeros((1, 4, 5, 3), np.int8)
    np.savez(tmp_path / "in.npz", x, x)
    args = [str(tmp_path), "1000000"] if job == "outputs" else ["tflm", str(tmp_path), "1", "0", "1000000"]
    done = subprocess.run(worker_command(job, *args), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "TensorFlow Lite Micro has no kernel for op TILE; run the model on host (LiteRT) or replace the layer"
    ]
    message = failure_message("the tflite-micro interpreter", done.returncode, done.stderr)
    assert message == (
        "the tflite-micro interpreter failed: TensorFlow Lite Micro has no kernel for op TILE; "
        "run the model on host (LiteRT) or replace the layer"
    )


# ---- crashes ----


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGABRT])
def test_a_crashed_child_is_reported_by_signal_name(sig):
    done = subprocess.run(
        [sys.executable, "-c", f"import os; os.kill(os.getpid(), {int(sig)})"], capture_output=True, text=True
    )
    assert done.returncode == -sig
    message = failure_message("the compiled engine", done.returncode, done.stderr)
    assert message.startswith(f"the compiled engine crashed ({sig.name})")
