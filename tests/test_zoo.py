"""Model zoo: architectures match the MLPerf Tiny references; checked-in fixtures are int8.

Nothing here trains. Building the four Keras models takes a few seconds; the
fixtures in tests/fixtures/zoo/ come from scripts/build_zoo.py.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "zoo"
NAMES = ("kws_dscnn", "ic_resnet8", "vww_mobilenet", "ad_autoencoder")
MAC_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")

# (total incl. BatchNorm moving statistics, trainable), computed by hand from the
# reference layer shapes in mlcommons/tiny benchmark/training/.
PARAMS = {
    "kws_dscnn": (24_908, 23_756),
    "ic_resnet8": (78_666, 78_186),
    "vww_mobilenet": (221_794, 216_322),
    "ad_autoencoder": (269_992, 267_928),
}
# As published on the NXP eIQ Model Zoo cards of the MLCommons-trained models
# (KWS 23,756; ResNet 78,666; VWW 221,794; AD 267,928): the count they print is
# "total" for two and "trainable" for the other two.
PUBLISHED_PARAMS = {
    "kws_dscnn": (23_756, "trainable"),
    "ic_resnet8": (78_666, "total"),
    "vww_mobilenet": (221_794, "total"),
    "ad_autoencoder": (267_928, "trainable"),
}
# MACs per inference, by hand; MLTK's `mltk summarize` of the reference models
# prints 2.657 M, 12.502 M, 7.490 M and 264.192 k.
MACS = {
    "kws_dscnn": 2_656_768,
    "ic_resnet8": 12_501_632,
    "vww_mobilenet": 7_489_664,
    "ad_autoencoder": 264_192,
}


def _load_zoo() -> Any:
    spec = importlib.util.spec_from_file_location("edgeq_zoo", ROOT / "scripts" / "zoo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


zoo = _load_zoo()


@functools.cache
def _keras_model(name: str) -> Any:
    pytest.importorskip("keras")
    return zoo.ZOO[name].builder()


def _interpreter(path: Path) -> Any:
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    return litert.Interpreter(model_path=str(path))


def tflite_macs(path: Path) -> int:
    """MACs of a .tflite: output positions x weight size of conv/depthwise/FC ops."""
    interpreter = _interpreter(path)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    total = 0
    for op in interpreter._get_ops_details():
        if op["op_name"] in MAC_OPS:
            weights = tensors[op["inputs"][1]]["shape"]
            output = tensors[op["outputs"][0]]["shape"]
            total += int(np.prod(output[:-1])) * int(np.prod(weights))
    return total


def test_registry_lists_the_four_models() -> None:
    assert tuple(zoo.ZOO) == NAMES
    for name, entry in zoo.ZOO.items():
        assert entry.name == name
        assert (entry.params_total, entry.params_trainable) == PARAMS[name]
        assert (entry.published_params, entry.published_params_kind) == PUBLISHED_PARAMS[name]
        assert entry.params_matching_published == entry.published_params
        assert entry.macs == MACS[name]
        assert "mlcommons/tiny" in entry.description


@pytest.mark.parametrize("name", NAMES)
def test_architecture_params_match_reference(name: str) -> None:
    model = _keras_model(name)
    assert zoo.count_params(model) == PARAMS[name]
    assert tuple(model.input.shape[1:]) == zoo.ZOO[name].input_shape


@pytest.mark.parametrize("name", NAMES)
def test_architecture_macs_match_published(name: str) -> None:
    macs = zoo.count_macs(_keras_model(name))
    assert macs == MACS[name]
    published = zoo.ZOO[name].published_macs
    assert abs(macs - published) <= 5e-4 * published  # published rounded to 4 digits


@pytest.mark.parametrize("name", NAMES)
def test_make_data_is_seeded_and_in_range(name: str) -> None:
    entry = zoo.ZOO[name]
    x, y = zoo.make_data(name, 16, seed=3)
    again, _ = zoo.make_data(name, 16, seed=3)
    other, _ = zoo.make_data(name, 16, seed=4)
    assert x.dtype == np.float32 and x.shape == (16, *entry.input_shape)
    assert np.array_equal(x, again) and not np.array_equal(x, other)
    low, high = entry.input_range
    assert low <= x.min() and x.max() <= high
    assert y.shape == (16,) and y.min() >= 0 and y.max() < max(entry.classes, 2)


def test_make_data_rejects_unknown_names() -> None:
    with pytest.raises(KeyError, match="unknown zoo model"):
        zoo.make_data("resnet50", 4, 0)


@pytest.mark.parametrize("name", NAMES)
def test_int8_fixture_is_fully_integer(name: str) -> None:
    path = FIXTURES / name / "int8.tflite"
    assert path.is_file(), f"{path} missing: run scripts/build_zoo.py"
    interpreter = _interpreter(path)
    interpreter.allocate_tensors()
    assert interpreter.get_input_details()[0]["dtype"] == np.int8
    assert interpreter.get_output_details()[0]["dtype"] == np.int8
    odd = [
        (t["name"], np.dtype(t["dtype"]).name)
        for t in interpreter.get_tensor_details()
        if t["dtype"] not in (np.int8, np.int32)
    ]
    assert odd == []


@pytest.mark.parametrize("name", NAMES)
def test_int8_fixture_macs_match_keras(name: str) -> None:
    assert tflite_macs(FIXTURES / name / "int8.tflite") == zoo.count_macs(_keras_model(name))


@pytest.mark.parametrize("name", NAMES)
def test_float_fixture_has_float_io(name: str) -> None:
    interpreter = _interpreter(FIXTURES / name / "float.tflite")
    assert interpreter.get_input_details()[0]["dtype"] == np.float32
    assert tflite_macs(FIXTURES / name / "float.tflite") == MACS[name]


@pytest.mark.parametrize("name", NAMES)
def test_meta_records_the_build(name: str) -> None:
    folder = FIXTURES / name
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["input_shape"] == list(zoo.ZOO[name].input_shape)
    assert (meta["params"]["total"], meta["params"]["trainable"]) == PARAMS[name]
    assert meta["macs"]["computed"] == MACS[name]
    assert meta["sizes"]["int8_tflite"] == (folder / "int8.tflite").stat().st_size
    assert (meta["sizes"]["keras"] is None) != (folder / "model.keras").is_file()
    quality = meta["quality"]
    assert quality["metric"] == ("auc" if name == "ad_autoencoder" else "accuracy")
    assert quality["float"] >= 0.75  # the synthetic task was learnt
    assert quality["int8"] >= quality["float"] - 0.03  # and survived quantization


def test_fixture_folder_stays_small() -> None:
    # Four trained .keras models (about 2.3 MB), float and int8 .tflite files (about 3.5 MB).
    size = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert size < 7 * 1024 * 1024
