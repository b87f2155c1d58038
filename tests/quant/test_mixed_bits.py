"""Mixed int4/int8 weights under an accuracy budget (edgeq.quant.mixed_bits) on a tiny model.

The model is exact by construction: ``body`` (a conv whose int4 weights cost little) feeds ``head``, a
dense layer whose every output channel has one weight of 100 on a unit that is always zero and its
informative weights below 3. int8's per-channel scale (100/127) keeps those weights; int4's (100/7)
rounds them all to zero, so int4 on ``head`` loses the classes, and the search must keep it int8.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.slow
pytest.importorskip("ai_edge_quantizer")

CLASSES = 4


def build(keras):
    """4x4x2 -> conv 1x1 (8 ch, relu) -> flatten -> head (4)."""
    rng = np.random.default_rng(0)
    inputs = keras.Input((4, 4, 2), name="img")
    body = keras.layers.Conv2D(8, 1, activation="relu", name="body")
    head = keras.layers.Dense(CLASSES, name="head")
    model = keras.Model(inputs, head(keras.layers.Flatten(name="flat")(body(inputs))), name="bits_net")
    kernel = np.zeros((1, 1, 2, 8), np.float32)
    kernel[0, 0, 0, :7] = rng.uniform(0.5, 1.5, 7)  # unit 7 of every pixel stays 0
    kernel[0, 0, 1, :7] = rng.uniform(-0.3, 0.3, 7)
    body.set_weights([kernel, np.zeros(8, np.float32)])
    dense = rng.uniform(-2.5, 2.5, (128, CLASSES)).astype(np.float32)
    dense[7::8, :] = 100.0  # the dead unit: the largest weight of every output channel
    head.set_weights([dense, np.zeros(CLASSES, np.float32)])
    return model


@pytest.fixture(scope="module")
def setup():
    keras = pytest.importorskip("keras")
    model = build(keras)
    x = np.random.default_rng(1).uniform(0, 1, (500, 4, 4, 2)).astype(np.float32)
    logits = model.predict(x, verbose=0)
    top2 = np.sort(logits, axis=1)[:, -2:]
    keep = top2[:, 1] - top2[:, 0] > 1.0  # a clear margin: int8 keeps the class
    x, y = x[keep], logits[keep].argmax(axis=1)
    return model, x[:100], (x[100:300], y[100:300])


@pytest.fixture(scope="module")
def tight(setup):
    from edgeq.quant.mixed_bits import mixed_bits

    model, calib, evaluation = setup
    return mixed_bits(model, calib, evaluation, 0.0)


def test_a_budget_of_zero_is_no_worse_than_int8(tight):
    assert tight.score >= tight.int8_score
    assert tight.int8_score > 0.9 and tight.int4_score < tight.int8_score - 0.2  # int4 everywhere hurts


def test_the_sensitive_layer_stays_int8_and_the_cheap_one_goes_int4(tight):
    bits = {c.layer: c.bits for c in tight.layers}
    assert bits == {"body": 4, "head": 8}
    sens = {c.layer: c.sensitivity for c in tight.layers}
    assert sens["head"] > 10 * max(sens["body"], 1e-12)
    # Files are padded to 16-byte aligned buffers, so the 8 bytes the body's int4 weights save may not show.
    assert tight.sizes["int4"] < tight.sizes["int8"]
    assert tight.sizes["int4"] <= tight.sizes["mixed"] <= tight.sizes["int8"]
    saved = {layer.layer: layer.saved_bytes for layer in tight.layers}
    assert saved["body"] > 0
    body = next(c for c in tight.layers if c.layer == "body")
    assert body.saved_bytes == 16 - 8  # 16 weights: 16 bytes as int8, 8 as int4


def test_a_large_budget_makes_every_layer_int4(setup, tmp_path):
    from edgeq.model import read_model
    from edgeq.quant.mixed_bits import mixed_bits

    model, calib, evaluation = setup
    out = tmp_path / "loose.tflite"
    result = mixed_bits(model, calib, evaluation, 100.0, output=out)
    assert all(c.bits == 4 for c in result.layers) and result.trials == 1
    assert result.sizes["mixed"] == result.sizes["int4"] == out.stat().st_size
    graph = read_model(out.read_bytes())
    assert sum(1 for t in graph.tensors if t.dtype == "int4") == 2
    assert json.loads(out.with_suffix(".json").read_text())["int4_layers"] == 2


def test_cli_mixed_bits_prints_the_layers(setup, tmp_path, cli):
    model, calib, (x, y) = setup
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "calib.npy", calib)
    np.savez(tmp_path / "eval.npz", x=x, y=y)
    out = tmp_path / "m.tflite"
    args = ("convert", str(tmp_path / "m.keras"), "-d", str(tmp_path / "calib.npy"), "-o", str(out))
    result = cli(*args, "--weights", "int4", "--accuracy-budget", "0", "--eval-data", str(tmp_path / "eval.npz"))
    assert result.exit_code == 0, result.stderr
    assert "int4     CONV_2D          body" in result.stdout and "int8     FULLY_CONNECTED  head" in result.stdout
    assert "1 of 2 layers int4" in result.stdout
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved["drop_points"] <= 0 and saved["quantizer"].startswith("AI Edge Quantizer")
