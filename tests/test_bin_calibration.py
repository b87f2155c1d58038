"""An MLPerf Tiny-style folder of int8 .bin files: convert (calibration) and run read it alike.

The files hold the int8 input of a reference model (scale S, zero point Z), as
MLPerf Tiny's KWS, VWW and IC datasets do. A float Keras model is calibrated on
them and the int8 result run on them; labels are the float model's own top-1,
so the accuracy ``edgeq run`` reports is the float-vs-int8 agreement.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

pytestmark = pytest.mark.slow

SCALE, ZERO = 0.25, 3
BIN = ("--bin-dtype", "int8", "--bin-scale", str(SCALE), "--bin-zero-point", str(ZERO))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(model path, kws01 folder, real values of its files, the float model's top-1 on them)."""
    import keras

    root = tmp_path_factory.mktemp("bins")
    keras.utils.set_random_seed(11)
    inp = keras.Input((10, 8, 1), name="mfcc")
    conv = keras.layers.Conv2D(8, 3, padding="same", name="conv")(inp)
    x = keras.layers.ReLU()(keras.layers.BatchNormalization(name="bn")(conv))
    model = keras.Model(inp, keras.layers.Dense(4, activation="softmax")(keras.layers.Flatten()(x)))
    rng = np.random.default_rng(12)
    real = rng.normal(0.0, 8.0, (120, 10, 8, 1)).astype(np.float32)
    seen = keras.Model(inp, conv)(real).numpy()  # what "training" left in the BatchNormalization
    gamma, beta, _, _ = model.get_layer("bn").get_weights()
    model.get_layer("bn").set_weights([gamma, beta, seen.mean((0, 1, 2)), seen.var((0, 1, 2))])
    with warnings.catch_warnings():  # Keras' own numpy 2 deprecation notice while saving
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save(root / "kws.keras")
    q = np.clip(np.round(real / SCALE) + ZERO, -128, 127).astype(np.int8)
    files = (q.astype(np.float32) - ZERO) * SCALE
    top1 = model.predict(files, verbose=0).argmax(1)
    folder = root / "kws01"
    folder.mkdir()
    for i in range(len(q)):
        (folder / f"s{i:03d}.bin").write_bytes(q[i].tobytes())
    (folder / "y_labels.csv").write_text("".join(f"s{i:03d}.bin, 4, {top1[i]}\n" for i in range(len(q))))
    assert len(set(top1.tolist())) > 1  # a meaningful agreement test
    return root / "kws.keras", folder, files, top1


@pytest.fixture(scope="module")
def converted(setup, tmp_path_factory):
    from tests.conftest import run_cli

    model, folder, _, _ = setup
    out = tmp_path_factory.mktemp("out") / "kws_int8.tflite"
    result = run_cli("convert", str(model), "-d", str(folder), "-o", str(out), "--samples", "80", *BIN)
    assert result.exit_code == 0, result.stderr
    return out, result


def test_one_byte_files_for_a_float_model_need_their_quantization(setup, cli, tmp_path):
    model, folder, _, _ = setup
    out = tmp_path / "m.tflite"
    result = cli("convert", str(model), "-d", str(folder), "-o", str(out))
    assert result.exit_code == 1 and not out.exists()
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "s000.bin has 80 bytes, one per element of input mfcc" in lines[-1]
    assert "give them with --bin-dtype int8|uint8 --bin-scale S --bin-zero-point Z" in lines[-1]


def test_convert_and_run_read_the_files_as_the_same_values(setup, converted, cli, tmp_path):
    _, folder, _, top1 = setup
    model, result = converted
    assert "looks unlike the data the model was trained on" not in result.stderr
    assert "vs float on 32 held-out samples (not used for calibration)" in result.stdout
    # the converted model's input quantization is its own: convert says how to feed it these files
    assert f"give edgeq run the same --bin-dtype int8 --bin-scale {SCALE} --bin-zero-point {ZERO}" in result.stderr
    run = cli(
        "run", str(model), "--target", "host", "--input", str(folder), "-o", str(tmp_path / "o.npy"), "--json", *BIN
    )
    assert run.exit_code == 0, run.stderr
    assert run.json()["metric"] == "top1_accuracy" and run.json()["value"] >= 0.9  # agreement with the float model
    assert np.mean(np.load(tmp_path / "o.npy").argmax(1) == top1) >= 0.9


def test_calibration_matches_the_dequantized_files(setup, converted):
    """The int8 input range the converter chose spans the real values of the files, not their raw bytes."""
    from edgeq.model import read_model

    _, _, files, _ = setup
    model, _ = converted
    quant = read_model(model).input_tensors[0].quantization
    low, high = (-128 - quant.zero_point[0]) * quant.scale[0], (127 - quant.zero_point[0]) * quant.scale[0]
    assert low <= files.min() + 1 and high >= files.max() - 1 and high - low < 2 * (files.max() - files.min())


def test_wrong_scale_warns(setup, cli, tmp_path):
    model, folder, _, _ = setup
    out = tmp_path / "m.tflite"
    wrong = ("--bin-dtype", "int8", "--bin-scale", "1", "--bin-zero-point", str(ZERO))
    result = cli("convert", str(model), "-d", str(folder), "-o", str(out), "--samples", "80", *wrong)
    assert result.exit_code == 0, result.stderr
    assert "warning: the calibration data looks unlike the data the model was trained on: at layer bn" in result.stderr
    notes = json.loads(out.with_suffix(".json").read_text())["notes"]
    assert any("at layer bn (BatchNormalization) it has 4" in note for note in notes)


@pytest.mark.parametrize(("factor", "warns"), [(1.0, False), (255.0, True), (1 / 255, True), (0.8, False)])
def test_range_check_compares_with_the_batchnorm_statistics(setup, factor, warns):
    from edgeq.convert.datacheck import range_warning
    from edgeq.convert.loader import load_model

    model, _, files, _ = setup
    warning = range_warning(load_model(model), {"mfcc": files * np.float32(factor)})
    assert (warning is not None) == warns, warning


def test_bin_options_need_a_bin_folder(setup, cli, tmp_path):
    model, _, files, _ = setup
    np.save(tmp_path / "x.npy", files)
    result = cli("convert", str(model), "-d", str(tmp_path / "x.npy"), "-o", str(tmp_path / "m.tflite"), *BIN)
    assert result.exit_code == 2 and "--bin-dtype reads .bin files, but -d" in result.stderr
    assert "loaded" not in result.stderr
