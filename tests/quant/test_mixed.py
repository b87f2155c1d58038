"""Mixed precision under an accuracy budget on a tiny model with an outlier-range layer."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def build_outlier_net(keras, outlier: bool = True):
    """16 -> enc(8, relu) -> mid(9, relu) -> head(4, softmax), exact by construction.

    enc holds the positive and negative parts of x @ w; mid copies them, and
    its unit 8 fires rarely with values near 2000 (the head ignores it), so
    min/max calibration stretches the whole mid tensor's range.
    """
    w = np.random.default_rng(0).normal(0, 0.5, (16, 4)).astype(np.float32)
    inputs = keras.Input((16,), name="features")
    enc = keras.layers.Dense(8, activation="relu", name="enc")
    mid = keras.layers.Dense(9, activation="relu", name="mid")
    head = keras.layers.Dense(4, activation="softmax", name="head")
    model = keras.Model(inputs, head(mid(enc(inputs))), name="outlier_net")
    enc.set_weights([np.concatenate([w, -w], axis=1), np.zeros(8, np.float32)])
    kernel = np.zeros((8, 9), np.float32)
    kernel[np.arange(8), np.arange(8)] = 1.0
    kernel[0, 8] = 2000.0 if outlier else 0.0
    mid.set_weights([kernel, np.array([0.0] * 8 + [-5000.0], np.float32)])
    out = np.zeros((9, 4), np.float32)
    out[np.arange(4), np.arange(4)], out[4 + np.arange(4), np.arange(4)] = 5.0, -5.0
    head.set_weights([out, np.zeros(4, np.float32)])
    return model, w


def labelled(w: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian features labelled by arg-max of x @ w, with a clear margin."""
    x = np.random.default_rng(seed).normal(0, 1, (4 * n, 16)).astype(np.float32)
    logits = x @ w
    top2 = np.sort(logits, axis=1)[:, -2:]
    keep = top2[:, 1] - top2[:, 0] > 0.3
    return x[keep][:n], logits[keep][:n].argmax(axis=1)


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def outlier_net(keras):
    return build_outlier_net(keras)


@pytest.fixture(scope="module")
def chosen(outlier_net, tmp_path_factory):
    from edgeq.quant.mixed import mixed_precision

    model, w = outlier_net
    out = tmp_path_factory.mktemp("mixed") / "mixed.tflite"
    calib, _ = labelled(w, 200, 1)
    return mixed_precision(model, calib, labelled(w, 300, 2), 0.5, output=out), out


def test_plain_int8_loses_far_more_than_the_budget(chosen):
    result, _ = chosen
    assert result.float_score == 1.0
    assert result.int8_drop_points > 20


def test_keeps_the_outlier_layer_float_and_meets_the_budget(chosen):
    result, _ = chosen
    assert [k.layers for k in result.kept_float] == [("mid",)]
    assert result.kept_float[0].gain > 0.9
    assert result.drop_points <= 0.5
    assert result.score >= result.int8_score
    assert result.mechanism.startswith("float fallback")


def test_reports_the_cost_and_the_integer_only_warning(chosen):
    result, _ = chosen
    assert not result.integer_only
    assert "no longer runs integer-only" in result.warnings[0]
    assert set(result.sizes) == set(result.latency_p50_ms) == {"float", "int8", "mixed"}
    assert result.sizes["mixed"] > result.sizes["int8"]
    assert all(v > 0 for v in result.latency_p50_ms.values())


def test_writes_the_model_and_its_json(chosen):
    from edgeq.model import read_model
    from edgeq.quant.requantize import float_op_outputs

    result, out = chosen
    graph = read_model(out.read_bytes())
    assert graph.input_tensors[0].dtype == "int8"
    assert any("mid" in name for name in float_op_outputs(graph))
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["kept_float"][0]["layers"] == ["mid"]
    assert report["drop_points"] == pytest.approx(result.drop_points)


def test_budget_met_by_int8_keeps_everything_int8(keras):
    from edgeq.quant.mixed import mixed_precision

    model, w = build_outlier_net(keras, outlier=False)
    result = mixed_precision(model, labelled(w, 100, 1)[0], labelled(w, 200, 2), 1.0)
    assert result.kept_float == ()
    assert result.integer_only and result.warnings == ()
    assert result.mechanism.startswith("none")
    assert result.drop_points == result.int8_drop_points <= 1.0


def test_impossible_budget_fails_naming_the_best_reached(outlier_net):
    from edgeq.errors import ConversionError
    from edgeq.quant.mixed import mixed_precision

    model, w = outlier_net
    calib, _ = labelled(w, 100, 1)
    calib[0] *= 200.0  # one wild calibration sample: the int8 input itself loses the signal
    with pytest.raises(ConversionError, match=r"cannot be met.*still loses \d+\.\d+ points \(best reached"):
        mixed_precision(model, calib, labelled(w, 200, 2), 0.5)


def test_negative_budget_is_a_usage_error(outlier_net):
    from edgeq.errors import UsageError
    from edgeq.quant.mixed import mixed_precision

    with pytest.raises(UsageError, match="--accuracy-budget -1"):
        mixed_precision(outlier_net[0], None, None, -1.0)


def test_requantize_matches_edgeq_convert(outlier_net, tmp_path):
    """Calibrate-then-quantize computes exactly what edgeq convert --mode int8 writes."""
    from edgeq.convert import convert
    from edgeq.quant.mixed_search import run_outputs
    from edgeq.quant.requantize import calibrate

    model, w = outlier_net
    calib, _ = labelled(w, 100, 1)
    convert(model, calib, tmp_path / "ref.tflite", mode="int8", io="int8", samples=100, check_samples=0)
    ours = calibrate(model, calib, samples=100).quantize()
    x = {"features": labelled(w, 50, 3)[0]}
    np.testing.assert_array_equal(run_outputs(ours, x), run_outputs((tmp_path / "ref.tflite").read_bytes(), x))
