"""edgeq evaluate: reference vs candidate on labelled and unlabelled data."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from edgeq.convert import convert
from edgeq.convert.fidelity import compare_outputs
from edgeq.errors import ModelFormatError
from edgeq.evaluation import evaluate

from .conftest import MODELS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """tiny_cnn as float (float16 weights) and int8 .tflite, calibrated on seeded data."""
    root = tmp_path_factory.mktemp("eval")
    x = np.random.default_rng(5).random((80, 12, 12, 3), dtype=np.float32)
    np.save(root / "calib.npy", x)
    int8 = root / "int8.tflite"
    report = convert(MODELS / "tiny_cnn.keras", root / "calib.npy", int8, samples=80, check_samples=0)
    float_model = root / "float.tflite"
    convert(MODELS / "tiny_cnn.keras", None, float_model, mode="float16")
    return root, int8, float_model, report


def test_compare_outputs_metrics():
    ref = np.array([[0.1, 0.9], [0.8, 0.2]])
    cand = np.array([[0.2, 0.8], [0.4, 0.6]])
    m = compare_outputs(ref, cand)
    assert m["top1_agreement"] == 0.5
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean((cand - ref) ** 2)))
    assert m["snr_db"] == pytest.approx(10 * np.log10(np.mean(ref**2) / np.mean((cand - ref) ** 2)))
    assert compare_outputs(ref, ref)["snr_db"] is None  # identical: infinite SNR


def test_keras_reference_with_labels(converted, rng):
    root, int8, _, _ = converted
    x = rng.random((40, 12, 12, 3), dtype=np.float32)
    import keras

    y = keras.models.load_model(MODELS / "tiny_cnn.keras").predict(x, verbose=0).argmax(1)
    np.savez(root / "test.npz", x=x, y=y)  # labels = the float model's own predictions
    result = evaluate(MODELS / "tiny_cnn.keras", int8, root / "test.npz")
    assert result.samples == 40 and result.labelled
    assert result.reference_accuracy == 1.0
    assert result.candidate_accuracy == pytest.approx(result.top1_agreement)
    assert result.accuracy_drop_points == pytest.approx(100 * (1.0 - result.candidate_accuracy))
    assert result.snr_db > 20


def test_tflite_reference_unlabelled_npy_with_limit(converted, rng):
    root, int8, float_model, _ = converted
    np.save(root / "x.npy", rng.random((25, 12, 12, 3), dtype=np.float32))
    result = evaluate(float_model, int8, root / "x.npy", limit=10)
    assert result.samples == 10 and not result.labelled and result.reference_accuracy is None
    assert result.rmse < 0.05


def test_same_model_is_identical(converted, rng):
    root, int8, _, _ = converted
    np.save(root / "x.npy", rng.random((5, 12, 12, 3), dtype=np.float32))
    result = evaluate(int8, int8, root / "x.npy")
    assert result.rmse == 0.0 and result.snr_db is None and result.top1_agreement == 1.0


def test_class_folder_data(converted):
    root, int8, float_model, _ = converted
    for label in ("a", "b"):
        (root / "imgs" / label).mkdir(parents=True, exist_ok=True)
        for i in range(3):
            Image.new("RGB", (24, 24), (i * 40, 100, 200)).save(root / "imgs" / label / f"{i}.png")
    result = evaluate(float_model, int8, root / "imgs")
    assert result.samples == 6 and result.labelled


def test_corrupt_candidate(converted, tmp_path):
    root, _, float_model, _ = converted
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"TFL3" * 10)
    with pytest.raises(ModelFormatError):
        evaluate(float_model, bad, root / "calib.npy")
