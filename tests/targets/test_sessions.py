"""Sessions: a model kept loaded on a target, one sample at a time, equal to a batch run on the same target."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.streaming import BatchSession, open_session
from edgeq.targets import get_target
from tests.conftest import FIXTURES

KWS = (FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite").read_bytes()
TWO_INPUTS = (FIXTURES / "tflite" / "two_input_int8.tflite").read_bytes()


def _samples(model: bytes, n: int) -> list[np.ndarray]:
    from edgeq.model import read_model
    from edgeq.model.io import model_inputs

    rng = np.random.default_rng(4)
    return [
        rng.integers(-128, 128, (n, *spec.sample_shape)).astype(spec.numpy_dtype)
        for spec in model_inputs(read_model(model))
    ]


@pytest.mark.parametrize("target", ["host", "host-tflm", "host-c", "qemu-m4"])
@pytest.mark.parametrize("model", [KWS, TWO_INPUTS], ids=["kws", "two-inputs"])
def test_a_session_gives_what_a_batch_run_gives(target, model):
    x = _samples(model, 3)
    expected = get_target(target).run(model, x)
    with open_session(model, target) as session:
        got = [session.infer([a[n] for a in x]) for n in range(3)]
    for k, out in enumerate(expected):
        np.testing.assert_array_equal(np.stack([g.outputs[k] for g in got]), out)
    assert all(g.ms > 0 for g in got)
    assert all(g.estimated for g in got) == (target == "qemu-m4")
    assert session.source


def test_targets_without_a_session_run_one_sample_batches():
    x = _samples(KWS, 2)
    target = get_target("host")
    session = BatchSession(target, KWS)
    got = np.stack([session.infer([x[0][n]]).outputs[0] for n in range(2)])
    np.testing.assert_array_equal(got, target.run(KWS, x)[0])
    assert "one-sample run on host" in session.source
