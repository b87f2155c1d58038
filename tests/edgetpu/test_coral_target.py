"""The ``coral`` target without Coral hardware: the missing-runtime error, compiling first, and the run loop."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from edgeq.errors import DependencyError, UsageError
from edgeq.targets import coral, get_target
from tests.edgetpu.models import CONV_INT8
from tests.edgetpu.test_compiler import SAMPLE_PARTIAL, fake_compiler


def _libedgetpu_installed() -> bool:
    try:
        ctypes.CDLL(coral.library_name())
    except OSError:
        return False
    return True


@pytest.mark.skipif(_libedgetpu_installed(), reason="libedgetpu is installed here")
def test_missing_libedgetpu_is_a_one_line_dependency_error(conv_int8):
    with pytest.raises(DependencyError) as info:
        coral.make_target("coral").run(conv_int8, [np.zeros((1, 16, 16, 3), np.int8)])
    message = str(info.value)
    assert "\n" not in message
    for needle in ("libedgetpu.so.1", "libedgetpu1-std", "apt", "tflite-runtime", "edgeq edgetpu-check"):
        assert needle in message


def test_make_target():
    assert coral.make_target("coral").device is None
    assert coral.make_target("coral", device="usb:0").device == "usb:0"
    with pytest.raises(UsageError, match="takes no --port option; it takes: --device"):
        get_target("coral", port="/dev/ttyACM0")
    assert coral.make_target("coral").name == "coral"


def test_prepare_without_compiler_runs_the_model_as_given(monkeypatch, conv_int8):
    monkeypatch.setattr(coral, "find_compiler", lambda: None)
    model, notes = coral.CoralTarget().prepare(conv_int8)
    assert model == conv_int8
    assert "edgetpu_compiler not on PATH" in notes[0]


def test_prepare_compiles_and_reports_the_placement(monkeypatch, tmp_path, conv_int8):
    script = fake_compiler(tmp_path, SAMPLE_PARTIAL)
    monkeypatch.setattr(coral, "find_compiler", lambda: script)
    model, notes = coral.CoralTarget().prepare(conv_int8)
    assert model == conv_int8  # the stand-in compiler copies the model
    assert notes[0].endswith("Number of operations that will run on Edge TPU: 28")
    assert notes[1].endswith("Number of operations that will run on CPU: 6")


@pytest.fixture
def fake_edgetpu(monkeypatch):
    """libedgetpu replaced by a token; the interpreter is the host one, checking the token was passed."""
    from edgeq.litert import interpreter_class

    host_interpreter = interpreter_class()[0]

    def interpreter(model_content, num_threads, experimental_delegates=None):
        assert experimental_delegates in (None, ["edgetpu-delegate"])
        return host_interpreter(model_content=model_content, num_threads=num_threads)

    monkeypatch.setattr(coral, "load_edgetpu_delegate", lambda device=None: "edgetpu-delegate")
    monkeypatch.setattr(coral, "find_compiler", lambda: None)
    monkeypatch.setattr(coral, "interpreter_class", lambda: (interpreter, "test"))


def test_run_and_profile_with_a_stand_in_delegate(fake_edgetpu, rng):
    HOST = get_target("host")

    model = CONV_INT8.read_bytes()
    inputs = [rng.integers(-128, 128, (3, 16, 16, 3), dtype=np.int8)]
    outputs = coral.make_target("coral").run(model, inputs)
    assert outputs[0].shape == (3, 10)
    timing = coral.make_target("coral").profile(model, [inputs[0][:1]], runs=3, warmup=1)
    assert len(timing.ms) == 3 and all(ms >= 0 for ms in timing.ms)
    assert "edgetpu_compiler not on PATH" in timing.notes[0]
    assert "libedgetpu" in timing.latency_source
    np.testing.assert_array_equal(outputs[0], HOST.run(model, inputs)[0])
