"""Calibration methods: histograms and range choices (pure), then end-to-end conversions of tiny_cnn.keras."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from edgeq.calibration.histograms import Histogram
from edgeq.calibration.methods import (
    QMAX,
    QMIN,
    CalibrationMethod,
    RangeRule,
    choose_range,
    expected_error,
    kl_threshold,
    tflite_min_max,
)
from edgeq.errors import ConversionError, UsageError

from ..conftest import MODELS

METHODS = [m.value for m in CalibrationMethod]
CLIPPING = ["percentile", "mse", "entropy"]


def _hist(values: np.ndarray, chunks: int = 20) -> Histogram:
    hist = Histogram(name="t")
    for chunk in np.array_split(values, chunks):
        hist.update(chunk)
    return hist


def _zero_point(lo: float, hi: float) -> float:
    """TFLite's nudged zero point for a recorded [min, max]."""
    scale = (hi - lo) / (QMAX - QMIN)
    return float(np.clip(np.floor(QMIN - lo / scale + 0.5), QMIN, QMAX))


@pytest.fixture(scope="module")
def gaussian_outliers() -> Histogram:
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, 200_000)
    x[rng.choice(len(x), 10, replace=False)] = rng.choice([-1.0, 1.0], 10) * rng.uniform(30, 50, 10)
    return _hist(x)


@pytest.fixture(scope="module")
def laplace() -> Histogram:
    return _hist(np.random.default_rng(1).laplace(0.0, 1.0, 200_000))


# --- histograms ---------------------------------------------------------------


def test_histogram_counts_zeros_and_extremes():
    x = np.array([0.0, 0.0, -1.5, 2.0, 0.25, 0.0])
    hist = _hist(x, chunks=3)
    assert (hist.count, hist.zeros, hist.min, hist.max) == (6, 3, -1.5, 2.0)
    assert hist.counts.sum() == 3 and hist.limit >= 2.0


def test_growing_range_rebins_exactly():
    rng = np.random.default_rng(2)
    parts = [rng.normal(0, 0.1, 5000), rng.normal(0, 1.0, 5000), rng.normal(0, 9.0, 5000)]
    grown = Histogram(bins=64)
    for part in parts:
        grown.update(part)
    direct = Histogram(bins=64)
    direct.limit = grown.limit
    direct.update(np.concatenate(parts))
    assert grown.limit > np.abs(parts[0]).max()
    np.testing.assert_array_equal(grown.counts, direct.counts)


def test_nan_activations_are_a_one_line_error():
    with pytest.raises(ConversionError, match=r"tensor 't' produced NaN or Inf") as info:
        Histogram(name="t").update(np.array([1.0, np.nan]))
    assert "\n" not in str(info.value)


def test_quantile_and_fraction_outside_of_a_uniform_distribution():
    dist = _hist(np.random.default_rng(3).uniform(-1, 1, 100_000)).signed()
    assert dist.quantile(0.75) == pytest.approx(0.5, abs=0.01)
    assert dist.fraction_outside(-0.5, 0.5) == pytest.approx(0.5, abs=0.01)
    assert dist.fraction_outside(-1.0, 1.0) == 0.0


# --- range methods ------------------------------------------------------------


def test_minmax_is_the_exact_range(gaussian_outliers):
    h = gaussian_outliers
    assert choose_range(h, RangeRule("minmax")) == (h.min, h.max)
    assert choose_range(h, RangeRule("minmax", symmetric=True)) == (-h.absmax, h.absmax)


@pytest.mark.parametrize("method", ["percentile", "entropy"])
def test_outliers_are_clipped(gaussian_outliers, method):
    lo, hi = choose_range(gaussian_outliers, RangeRule(method))
    assert 3.0 < hi < 6.0 and -6.0 < lo < -3.0  # the bulk, not the +-30..50 outliers


def test_mse_clips_a_heavy_tail_and_lowers_the_error(laplace):
    lo, hi = choose_range(laplace, RangeRule("mse"))
    assert hi < laplace.max and lo > laplace.min
    dist = laplace.signed()
    assert expected_error(dist, lo, hi)[0] < 0.8 * expected_error(dist, laplace.min, laplace.max)[0]


def test_expected_error_matches_simulated_quantization():
    x = np.random.default_rng(4).normal(0.0, 1.0, 100_000)
    dist = _hist(x).signed()
    for lo, hi in [(-4.0, 4.0), (-2.0, 3.0), (-0.5, 0.5)]:
        scale = (hi - lo) / 255
        zp = _zero_point(lo, hi)
        q = np.clip(np.floor(x / scale + 0.5) + zp, QMIN, QMAX)
        simulated = np.sum(((q - zp) * scale - x) ** 2)
        assert expected_error(dist, lo, hi)[0] == pytest.approx(simulated, rel=0.02)


@pytest.mark.parametrize("method", METHODS)
def test_symmetric_ranges_have_zero_point_zero(gaussian_outliers, method):
    lo, hi = choose_range(gaussian_outliers, RangeRule(method, symmetric=True))
    assert lo == -hi and hi > 0
    assert _zero_point(*tflite_min_max(lo, hi, symmetric=True)) == 0.0


@pytest.mark.parametrize("method", METHODS)
def test_one_signed_tensor_keeps_zero_as_its_floor(method):
    x = np.maximum(np.random.default_rng(5).normal(0.0, 1.0, 50_000), 0.0)
    x[:3] = 60.0
    lo, hi = choose_range(_hist(x), RangeRule(method))
    assert lo == 0.0 and 0.0 < hi <= 60.0


def test_entropy_ignores_the_exact_zeros_of_a_relu():
    x = np.maximum(np.random.default_rng(6).normal(0.0, 1.0, 100_000), 0.0)  # half exact zeros
    hist = _hist(x)
    lo, hi = choose_range(hist, RangeRule("entropy"))
    assert lo == 0.0 and 3.0 < hi <= hist.max and hist.signed().fraction_outside(lo, hi) < 1e-3


def test_kl_threshold_keeps_a_uniform_range_and_cuts_far_outliers():
    assert kl_threshold(np.full(1000, 50.0), 0.01) == pytest.approx(10.0)
    decaying = np.round(1000 * np.exp(-np.arange(1000) / 150))
    tailed = np.concatenate([decaying, np.zeros(998), [1.0, 1.0]])
    assert kl_threshold(tailed, 0.01) <= 10.0


def test_all_zero_tensor_keeps_an_empty_range():
    hist = _hist(np.zeros(100))
    assert choose_range(hist, RangeRule("mse")) == (0.0, 0.0)


# --- validation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "magic"}, "--calibration 'magic' is not one of: minmax, percentile, mse, entropy"),
        ({"method": "percentile", "percentile": 120}, "--percentile 120 must be above 50 and at most 100"),
        ({"method": "percentile", "percentile": math.nan}, "--percentile nan must be above 50"),
        ({"method": "mse", "percentile": 99.9}, "--percentile applies to --calibration percentile, not mse"),
    ],
)
def test_bad_rules_are_one_line_usage_errors(kwargs, message):
    with pytest.raises(UsageError, match=message) as info:
        RangeRule(**kwargs)
    assert "\n" not in str(info.value)


def test_other_methods_need_int8_mode():
    from edgeq.convert import ConvertOptions

    with pytest.raises(UsageError, match="--calibration mse needs --mode int8"):
        ConvertOptions(mode="int16x8", calibration="mse")
    assert ConvertOptions(calibration="MSE").range_rule.method is CalibrationMethod.MSE


# --- end to end (tiny_cnn.keras, shared conversions) --------------------------

VARIANTS = {
    "default": {},
    "minmax": {"calibration": "minmax"},
    "percentile": {"calibration": "percentile"},
    "mse": {"calibration": "mse"},
    "entropy": {"calibration": "entropy"},
    "symmetric": {"calibration": "percentile", "percentile": 99.9, "symmetric_activations": True},
}


@pytest.fixture(scope="module")
def outlier_data(tmp_path_factory):
    """60 images in [0, 1]; two have one hot pixel of 40."""
    x = np.random.default_rng(7).random((60, 12, 12, 3), dtype=np.float32)
    x[[3, 41], 5, 6, 1] = 40.0
    path = tmp_path_factory.mktemp("calib") / "outliers.npy"
    np.save(path, x)
    return path


@pytest.fixture(scope="module")
def converted(tmp_path_factory, outlier_data):
    from edgeq.convert import convert

    folder = tmp_path_factory.mktemp("converted")
    out = {}
    for name, kwargs in VARIANTS.items():
        path = folder / f"{name}.tflite"
        report = convert(MODELS / "tiny_cnn.keras", outlier_data, path, check_samples=8, **kwargs)
        out[name] = (path, report)
    return out


def _activation_quant(path):
    from edgeq.model import read_model

    graph = read_model(path)
    return graph, {t.name: t.quantization for t in graph.tensors if t.quantization and not t.is_constant}


@pytest.mark.slow
def test_minmax_is_byte_identical_to_the_default(converted):
    assert converted["minmax"][0].read_bytes() == converted["default"][0].read_bytes()
    assert converted["default"][1].calibration["method"] == "minmax"


def _hooked_conversion(data, rewrite):
    from edgeq.convert import converter as conv
    from edgeq.convert.loader import load_model
    from edgeq.convert.options import ConvertOptions
    from edgeq.data import load_dataset
    from edgeq.tfimport import import_tf

    tf, loaded, opts = import_tf(), load_model(MODELS / "tiny_cnn.keras"), ConvertOptions()
    dataset = load_dataset(data, loaded.inputs, samples=opts.samples)
    converter = conv.new_converter(tf, loaded)
    conv.configure(tf, converter, opts, dataset, loaded)
    return conv.run(converter, record_float=True, rewrite=rewrite)


@pytest.mark.slow
def test_unchanged_ranges_through_the_hook_give_the_default_bytes(converted, outlier_data):
    """Guards the TF internals the hook repeats: calibrate only + mlir_quantize must equal convert()."""
    from edgeq.calibration.recorded import recorded_ranges, rewrite_ranges

    seen = []

    def same_ranges(calibrated: bytes) -> bytes:
        seen.append(calibrated)
        recorded = recorded_ranges(calibrated)
        return rewrite_ranges(calibrated, recorded, {r.index: (r.min, r.max) for r in recorded})

    model_bytes, float_bytes = _hooked_conversion(outlier_data, same_ranges)
    assert model_bytes == converted["default"][0].read_bytes() and float_bytes
    moved = rewrite_ranges(seen[0], recorded_ranges(seen[0]), {0: (-1.0, 2.0)})
    assert len(moved) == len(seen[0]) and moved != seen[0]
    assert [(r.min, r.max) for r in recorded_ranges(moved) if r.index == 0] == [(-1.0, 2.0)]


@pytest.mark.slow
def test_errors_in_the_hook_reach_the_user_unchanged(outlier_data):
    def failing(calibrated: bytes) -> bytes:
        raise ConversionError("tensor 'x' produced NaN or Inf on the calibration data")

    with pytest.raises(ConversionError, match="^tensor 'x' produced NaN"):
        _hooked_conversion(outlier_data, failing)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["percentile", "mse", "entropy", "symmetric"])
def test_methods_give_fully_int8_models_with_the_chosen_scales(converted, name):
    from edgeq.litert import Runner

    path, report = converted[name]
    graph, quant = _activation_quant(path)
    assert {t.dtype for t in graph.tensors} <= {"int8", "int32"} and report.float_ops == ()
    assert Runner(path).run_float([np.zeros((1, 12, 12, 3), np.float32)])[0].shape == (1, 4)
    _, baseline = _activation_quant(converted["default"][0])
    calibration = report.calibration
    assert calibration["method"] == VARIANTS[name]["calibration"] and calibration["clipped_tensors"] >= 1
    for t in calibration["tensors"]:
        lo, hi = tflite_min_max(t["lo"], t["hi"], calibration["symmetric"])
        assert quant[t["name"]].scale[0] == pytest.approx((hi - lo) / 255, rel=1e-3)
        if t["clipped_fraction"] > 0 and not calibration["symmetric"]:
            assert quant[t["name"]].scale[0] < baseline[t["name"]].scale[0]


@pytest.mark.slow
def test_clipping_the_hot_pixel_shrinks_the_input_scale(converted):
    scales = {name: report.inputs[0].scale for name, (_, report) in converted.items()}
    assert scales["percentile"] < scales["default"] / 10
    assert scales["entropy"] < scales["default"] / 4  # TensorRT-style: no threshold below 1/16 of the histogram


@pytest.mark.slow
def test_symmetric_activations_have_zero_point_zero(converted):
    path, report = converted["symmetric"]
    graph, quant = _activation_quant(path)
    softmax = {graph.tensors[op.outputs[0]].name for op in graph.operators if op.builtin == "SOFTMAX"}
    assert report.calibration["symmetric"] and report.inputs[0].zero_point == 0
    assert {name: q.zero_point[0] for name, q in quant.items() if name not in softmax and q.zero_point[0] != 0} == {}


@pytest.mark.slow
def test_cli_reports_the_method(cli, tmp_path, outlier_data):
    out = tmp_path / "m.tflite"
    args = ["convert", str(MODELS / "tiny_cnn.keras"), "-d", str(outlier_data), "-o", str(out)]
    result = cli(*args, "--calibration", "percentile", "--percentile", "99.9", "--check-samples", "0")
    assert result.exit_code == 0, result.stderr
    assert "calibration: percentile 99.9:" in result.stdout and "of the width" in result.stdout
    saved = json.loads(out.with_suffix(".json").read_text())["calibration"]
    assert saved["percentile"] == 99.9 and saved["clipped_tensors"] >= 1 and saved["tensors"][0]["ratio"] <= 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--calibration", "percentile", "--percentile", "120"], "--percentile 120.0 must be above 50"),
        (["--calibration", "bogus"], "Invalid value for '--calibration'"),
        (["--calibration", "entropy", "--mode", "int16x8"], "--calibration entropy needs --mode int8"),
        (["--calibration", "mse", "--nan"], "contains NaN"),
    ],
)
def test_cli_errors_are_one_line(cli, tmp_path, extra, message):
    data = tmp_path / "calib.npy"
    x = np.random.default_rng(0).random((10, 12, 12, 3), dtype=np.float32)
    if "--nan" in extra:
        extra = [e for e in extra if e != "--nan"]
        x[4, 0, 0, 0] = np.nan
    np.save(data, x)
    result = cli("convert", str(MODELS / "tiny_cnn.keras"), "-d", str(data), "-o", str(tmp_path / "m.tflite"), *extra)
    assert result.exit_code != 0 and message in result.stderr
    assert "Traceback" not in result.stderr
    if "Invalid value" not in message:
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and message in errors[0]
