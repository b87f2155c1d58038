"""edgeq analyze: per-layer int8 error on tiny hand-built Keras models, mapped to layer names."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.quant.layer_map import LayerMap, describe, scope_label

pytestmark = pytest.mark.slow
PNG = b"\x89PNG\r\n\x1a\n"


def build_mixer(keras):
    """4 -> mix(4) -> mid(8, relu) -> head(3, softmax); mix unit 0 is x0 + x1, which mid barely uses."""
    rng = np.random.default_rng(3)
    inputs = keras.Input((4,), name="features")
    mix = keras.layers.Dense(4, name="mix")
    mid = keras.layers.Dense(8, activation="relu", name="mid")
    head = keras.layers.Dense(3, activation="softmax", name="head")
    model = keras.Model(inputs, head(mid(mix(inputs))), name="mixer")
    mix_kernel = np.eye(4, dtype=np.float32)
    mix_kernel[1, 0] = 1.0  # unit 0 = x0 + x1
    mix.set_weights([mix_kernel, np.zeros(4, np.float32)])
    mid_kernel = rng.normal(0, 1, (4, 8)).astype(np.float32)
    mid_kernel[0] = 0.01
    mid.set_weights([mid_kernel, np.zeros(8, np.float32)])
    head.set_weights([rng.normal(0, 1, (8, 3)).astype(np.float32), np.zeros(3, np.float32)])
    return model


def mixer_data(n: int, seed: int, cancel: bool) -> np.ndarray:
    """Features in [-2, 2]; with ``cancel`` x1 = -x0, so mix unit 0 stays near 0."""
    x = np.random.default_rng(seed).uniform(-2, 2, (n, 4)).astype(np.float32)
    x[:, 1] = -x[:, 0] + (0.01 * x[:, 2] if cancel else 2 * x[:, 0])
    return x


@pytest.fixture(scope="module")
def mixer(tmp_path_factory):
    keras = pytest.importorskip("keras")
    folder = tmp_path_factory.mktemp("mixer")
    path = folder / "mixer.keras"
    build_mixer(keras).save(path)
    return path


@pytest.fixture(scope="module")
def good(mixer):
    """Converted by edgeq itself (local errors available), measured on the data it calibrated on."""
    from edgeq.quant.analyze import analyze

    return analyze(mixer, mixer_data(80, 1, cancel=False), samples=80)


@pytest.fixture(scope="module")
def bad_scale(mixer, tmp_path_factory):
    """An int8 model calibrated where mix unit 0 stays near 0, analysed where it does not."""
    from edgeq.convert import convert
    from edgeq.quant.analyze import analyze

    out = tmp_path_factory.mktemp("bad") / "int8.tflite"
    convert(mixer, mixer_data(80, 1, cancel=True), out, mode="int8", io="int8", samples=80, check_samples=0)
    return analyze(mixer, mixer_data(80, 2, cancel=False), quantized=out, samples=80), out


def test_every_quantized_tensor_has_a_row(bad_scale):
    from edgeq.model import read_model
    from edgeq.quant.analyze import tracked_tensors

    result, path = bad_scale
    graph = read_model(path.read_bytes())
    assert {r.index for r in result.rows} == set(tracked_tensors(graph))
    ops = {r.op for r in result.rows}
    assert {"INPUT", "FULLY_CONNECTED", "SOFTMAX"} <= ops
    assert all(r.rmse_scale is not None for r in result.rows)


def test_bad_output_scale_stands_out(bad_scale):
    result, _ = bad_scale
    worst = result.rows[0]
    assert worst.layer == "mix"
    assert worst.rmse_scale > 5 * max(r.rmse_scale for r in result.rows[1:] if r.op != "SOFTMAX")
    assert worst.saturation > 0.05  # unit 0 of 4 clips on about half the samples
    assert worst.range_seen[1] > 1.5 * worst.range_used[1]
    assert not result.local_errors


def test_rows_name_keras_layers(good):
    layers = {r.layer for r in good.rows}
    assert {"features", "mix", "mid", "head"} <= layers
    softmax = next(r for r in good.rows if r.op == "SOFTMAX")
    assert softmax.layer is None and "no Keras layer" in softmax.note and "head" in softmax.note


def test_good_model_is_near_rounding_error(good):
    assert good.local_errors
    for row in good.rows:
        if row.op == "FULLY_CONNECTED":
            assert row.local_rmse_scale is not None and row.local_rmse_scale < 0.6, row
            assert row.saturation == 0.0
            assert row.snr_db > 25


def test_json_keys(good):
    out = good.to_dict()
    assert {"model", "quantized", "data", "samples", "local_errors", "rounding_only", "rows"} <= set(out)
    row = out["rows"][0]
    expected = {"op", "layer", "layers", "tensor", "scale", "zero_point", "rmse_scale", "local_rmse_scale"}
    assert expected | {"snr_db", "range_used", "range_seen", "saturation", "median_steps", "score"} <= set(row)


def test_table_is_worst_first(good):
    from edgeq.cli.views.analyze import render_table

    text = render_table(good)
    assert "rmse/scale" in text and "mix" in text
    scores = [r.score for r in good.rows]
    assert scores == sorted(scores, reverse=True)


def test_cli_json_and_plot(cli, mixer, tmp_path, monkeypatch):
    import edgeq.cli

    monkeypatch.setitem(edgeq.cli.COMMANDS, "analyze", "analyze")  # registered by the lead in edgeq/cli/__init__.py
    data = tmp_path / "data.npy"
    np.save(data, mixer_data(40, 4, cancel=False))
    png = tmp_path / "plot.png"
    result = cli("analyze", str(mixer), "-d", str(data), "--samples", "40", "--json", "--plot", str(png))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert result.exit_code == 1 and "pip install matplotlib" in result.stderr
        return
    assert result.exit_code == 0, result.stderr
    assert result.json()["plot"] == str(png)
    assert png.read_bytes()[:8] == PNG
    assert len(result.json()["rows"]) >= 5


def test_missing_matplotlib_is_a_dependency_error(good, tmp_path, monkeypatch):
    import builtins

    from edgeq.errors import DependencyError
    from edgeq.quant.analyze_plot import plot

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(DependencyError, match="pip install matplotlib"):
        plot(good, tmp_path / "x.png")


def test_tflite_model_needs_quantized(tmp_path):
    from edgeq.errors import UsageError
    from edgeq.quant.analyze import analyze

    with pytest.raises(UsageError, match="--quantized"):
        analyze(tmp_path / "float.tflite", np.zeros((2, 4), np.float32))


@pytest.mark.parametrize(
    ("name", "keras3", "expected"),
    [
        ("net_1/conv2d_9_1/Relu;net_1/batch_normalization_7_1/add;net_1/conv2d_9_1/conv", True, ("conv2d_9", "bn")),
        ("model/conv2d_1/Relu", False, ("conv2d_1",)),
        ("model_1/conv2d_1/Relu", True, ("conv2d",)),
        ("StatefulPartitionedCall_1:0", True, ()),
    ],
)
def test_layer_map(name, keras3, expected):
    names = ["img", "conv2d", "conv2d_1", "conv2d_9", "batch_normalization_7", "dense"]
    found = LayerMap(names, keras3=keras3).layers(name)
    expected = tuple("batch_normalization_7" if e == "bn" else e for e in expected)
    assert found == expected


def test_layer_map_helpers():
    layer_map = LayerMap(["img", "dense"])
    assert layer_map.input_layer("serving_default_img:0") == "img"
    assert layer_map.input_layer("serving_default_other:0") is None
    assert describe(("conv", "bn", "relu")) == "conv (+bn, relu)"
    assert describe(()) == "-"
    assert scope_label("model_1/dense_3_1/MatMul;model_1/dense_3_1/BiasAdd") == "dense_3_1"
