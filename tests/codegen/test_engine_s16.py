"""int16x8 models (int16 activations, int8 weights, int64 biases) through the compiled engine.

The op suite's ``s16_*`` models are compared with tflite-micro in
tests/codegen/test_engine.py. Here: a Keras model converted by ``edgeq
convert --mode int16x8`` runs bit-exact against tflite-micro, the engine picks
its int16 kernels by dtype (an int8 model of the same ops never copies them),
and an int16 op without an int16 kernel is refused in one line naming the op,
its index and the dtype, as is any int16 model TFLM's int16 kernels would reject.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from edgeq.batch_run import run
from edgeq.codegen import generate
from edgeq.codegen.context import model_context
from edgeq.codegen.engine.build import build_engine
from edgeq.codegen.engine.validate_s16 import INT16_KERNEL_OPS
from edgeq.errors import UnsupportedError
from edgeq.model import read_model
from tests.codegen.test_engine import INDEX, OPS, assert_same_bytes
from tests.conftest import generated_schema, repack

pytest.importorskip("tflite_micro")


def _int16_samples(graph, n: int, seed: int) -> list[np.ndarray]:
    """Random int16 inputs, the first two samples at the extremes."""
    rng = np.random.default_rng(seed)
    out = []
    for t in graph.input_tensors:
        x = rng.integers(-32768, 32768, (n, *t.shape[1:])).astype(np.int16)
        x[0], x[1] = -32768, 32767
        out.append(x)
    return out


def _keras_model():
    import keras

    x = keras.Input((8, 8, 3), name="x")
    c = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(x)
    d = keras.layers.DepthwiseConv2D(3, padding="same", name="dw")(c)
    s = keras.layers.Add(name="add")([c, d])
    m = keras.layers.Multiply(name="mul")([s, keras.layers.Activation("sigmoid")(d)])
    t = keras.layers.Activation("tanh")(m)
    y = keras.layers.Softmax()(keras.layers.Dense(5, name="fc")(keras.layers.Flatten()(t)))
    keras.utils.set_random_seed(7)
    return keras.Model(x, y)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The Keras model through ``edgeq convert --mode int16x8``, and 20 int16 input samples."""
    from edgeq.convert import convert

    folder = tmp_path_factory.mktemp("int16x8")
    calib = folder / "calib.npy"
    np.save(calib, np.random.default_rng(1).uniform(-1, 1, (40, 8, 8, 3)).astype(np.float32))
    out = folder / "m16.tflite"
    convert(_keras_model(), calib, out, mode="int16x8", samples=40, check_samples=0)
    graph = read_model(out)
    return out, _int16_samples(graph, 20, 3)


@pytest.mark.slow
def test_converted_int16x8_model_matches_tflm(converted):
    model, inputs = converted
    graph = read_model(model)
    assert {op.builtin for op in graph.operators} >= set(INT16_KERNEL_OPS)
    assert graph.input_tensors[0].dtype == "int16"
    got = run(model, "host-c", inputs).outputs
    want = run(model, "host-tflm", inputs).outputs
    assert_same_bytes(got, want, "int16x8 Keras model: engine vs host-tflm")
    assert len(np.unique(got[0])) > 10  # the outputs vary: the comparison is not between two constants


@pytest.mark.slow
def test_converted_int16x8_model_matches_tflm_on_an_emulated_cortex_m4(converted):
    if not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")):
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm (apt: gcc-arm-none-eabi qemu-system-arm)")
    model, inputs = converted
    few = [x[:4] for x in inputs]
    assert_same_bytes(run(model, "qemu-m4", few).outputs, run(model, "host-tflm", few).outputs, "qemu-m4")


def test_engine_copies_int16_kernels_only_for_int16_models(tmp_path):
    s16 = [n for n in INDEX if n.startswith("s16_fc")][0]
    generate(OPS / f"{s16}.tflite", "engine", tmp_path / "s16", name="net")
    generate(OPS / "fc_b1_bias.tflite", "engine", tmp_path / "s8", name="net")
    assert (tmp_path / "s16" / "edgeq_s16_conv.c").exists()
    assert not (tmp_path / "s16" / "edgeq_fc.c").exists()
    assert (tmp_path / "s8" / "edgeq_fc.c").exists()
    assert not (tmp_path / "s8" / "edgeq_s16_conv.c").exists()


def test_int16_op_without_an_int16_kernel_is_refused_in_one_line(tmp_path):
    model = OPS / "s16_unsupported_avgpool.tflite"
    with pytest.raises(UnsupportedError) as info:
        generate(model, "engine", tmp_path / "engine", name="net")
    message = str(info.value)
    assert "\n" not in message
    assert "AVERAGE_POOL_2D (op 0)" in message and "int16" in message and "--format tflm" in message


def _int32_bias(model) -> None:
    """The int64 bias of the FC model rewritten as int32 (TFLM then accumulates in 32 bits)."""
    bias = model.subgraphs[0].tensors[2]
    values = np.frombuffer(bytes(model.buffers[bias.buffer].data), np.int64)
    bias.type = generated_schema().TensorType.INT32
    model.buffers[bias.buffer].data = np.frombuffer(values.astype(np.int32).tobytes(), np.uint8)


def _set(index: int, field: str, value) -> object:
    return lambda m: setattr(m.subgraphs[0].tensors[index].quantization, field, value)


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        ("s16_fc_b1_bias_relu", _set(0, "zeroPoint", np.array([5])), "zero point 5 (int16x8 needs 0)"),
        ("s16_fc_b1_bias_relu", _int32_bias, "int32 bias of an int16 op"),
        ("s16_fc_b1_bias_relu", _set(3, "scale", np.array([1e-12], np.float32)), "multipliers below 2^7"),
        ("s16_logistic", _set(1, "scale", np.array([1 / 1000], np.float32)), "needs 2^-15"),
        ("s16_softmax_2d", _set(1, "scale", np.array([1 / 256], np.float32)), "needs 2^-15"),
    ],
    ids=["zero-point", "int32-bias", "shift-above-7", "logistic-output-scale", "softmax-output-scale"],
)
def test_int16_models_tflm_rejects_are_refused_in_one_line(name, edit, expected):
    graph = read_model(repack((OPS / f"{name}.tflite").read_bytes(), edit))
    with pytest.raises(UnsupportedError) as info:
        build_engine(graph, model_context(graph, "m.tflite", "net"))
    message = str(info.value)
    assert "\n" not in message and expected in message, message
