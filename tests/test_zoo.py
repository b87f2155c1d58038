"""Model zoo: architectures match the MLPerf Tiny references; checked-in fixtures are int8.

Nothing here trains. Building the four Keras models takes a few seconds; the
fixtures in tests/fixtures/zoo/ come from scripts/build_zoo.py. The fifth model,
the ``seg_unet`` segmenter, is edgeq's own: its counts are checked against the
layer shapes, and its trained Keras model is converted again here and run on
the compiled engine against tflite-micro.
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
MAC_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")
SEG = "seg_unet"
# By hand from the layer shapes: convs 80 + 1,168 + 4,640 + 9,248, transposed conv 4,624, conv 4,624,
# 1x1 conv 136, conv 584, 1x1 conv 18; MACs 73,728 + 294,912 x 2 + 589,824 + 294,912 (the transposed
# conv's kernel once per input pixel) + 1,179,648 + 131,072 + 589,824 + 16,384.
SEG_PARAMS, SEG_MACS = 25_122, 3_465_216

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
            transposed = op["op_name"] == "TRANSPOSE_CONV"  # the whole kernel once per input pixel
            positions = tensors[op["inputs"][2] if transposed else op["outputs"][0]]["shape"]
            total += int(np.prod(positions[:-1])) * int(np.prod(weights))
    return total


def test_registry_lists_the_four_models() -> None:
    assert tuple(zoo.ZOO)[: len(NAMES)] == NAMES and SEG in zoo.ZOO  # the MLPerf four first, then edgeq's own
    for name, entry in ((n, zoo.ZOO[n]) for n in NAMES):
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


# The convolutions of the published MLPerf Tiny VWW model (mlcommons/tiny
# visual_wake_words/trained_models/vww_96_int8.tflite, read with edgeq inspect), in
# order: (kind, kernel, stride, output height = width, output channels).
_DS = [("dw", 3, 1, 6, 128), ("conv", 1, 1, 6, 128)] * 5
VWW_PUBLISHED_CONVS = [
    ("conv", 3, 2, 48, 8),
    ("dw", 3, 1, 48, 8),
    ("conv", 1, 1, 48, 16),
    ("dw", 3, 2, 24, 16),
    ("conv", 1, 1, 24, 32),
    ("dw", 3, 1, 24, 32),
    ("conv", 1, 1, 24, 32),
    ("dw", 3, 2, 12, 32),
    ("conv", 1, 1, 12, 64),
    ("dw", 3, 1, 12, 64),
    ("conv", 1, 1, 12, 64),
    ("dw", 3, 2, 6, 64),
    ("conv", 1, 1, 6, 128),
    *_DS,
    ("dw", 3, 2, 3, 128),
    ("conv", 1, 1, 3, 256),
    ("dw", 3, 1, 3, 256),
    ("conv", 1, 1, 3, 256),
]


def test_vww_fixture_has_the_published_layer_shapes() -> None:
    """Op for op the same convolutions as the published model (its extra instructions come from its weights)."""
    from edgeq.model import read_model

    graph = read_model((FIXTURES / "vww_mobilenet" / "int8.tflite").read_bytes())
    convs = []
    for op in graph.operators:
        if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            weights, out = graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
            kind = "dw" if op.name == "DEPTHWISE_CONV_2D" else "conv"
            assert op.options["padding"] == "SAME" and op.options["fused_activation_function"] == "RELU"
            convs.append((kind, weights.shape[1], op.options["stride_h"], out.shape[1], out.shape[3]))
    assert convs == VWW_PUBLISHED_CONVS


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


# ---- the segmenter (edgeq's own) ----


def test_segmenter_counts_match_its_layer_shapes() -> None:
    entry = zoo.ZOO[SEG]
    model = _keras_model(SEG)
    assert zoo.count_params(model) == (SEG_PARAMS, SEG_PARAMS) == (entry.params_total, entry.params_trainable)
    assert zoo.count_macs(model) == SEG_MACS == entry.macs
    layers = {type(layer).__name__ for layer in model.layers}
    assert {"Conv2DTranspose", "UpSampling2D", "Concatenate", "Add"} <= layers
    assert tflite_macs(FIXTURES / SEG / "int8.tflite") == SEG_MACS


def test_segmentation_data_is_seeded_with_masks() -> None:
    x, y = zoo.make_data(SEG, 32, seed=3)
    again, masks = zoo.make_data(SEG, 32, seed=3)
    assert x.dtype == np.float32 and x.shape == (32, 32, 32, 1) and x.min() >= 0 and x.max() <= 1
    assert np.array_equal(x, again) and np.array_equal(y, masks)
    assert not np.array_equal(x, zoo.make_data(SEG, 32, seed=4)[0])
    assert y.shape == (32, 32, 32) and set(np.unique(y)) == {0, 1}
    assert (y.reshape(32, -1).max(axis=1) == 1).all()  # every image holds an object
    deviation = np.abs(x[..., 0] - np.median(x[..., 0], axis=(1, 2), keepdims=True))
    assert deviation[y == 1].mean() > 2 * deviation[y == 0].mean()  # objects stand out from the background


def test_segmenter_fixture_learnt_its_task() -> None:
    meta = json.loads((FIXTURES / SEG / "meta.json").read_text())
    assert meta["quality"]["metric"] == "iou"
    assert meta["quality"]["float"] >= 0.75 and meta["quality"]["int8"] >= meta["quality"]["float"] - 0.03
    assert meta["sizes"]["int8_tflite"] == (FIXTURES / SEG / "int8.tflite").stat().st_size


def test_segmenter_converts_and_the_engine_matches_tflm(tmp_path: Path) -> None:
    """edgeq.convert on the trained .keras model, then the compiled engine against the TFLM interpreter."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("tflite_micro")
    from edgeq.batch_run import run
    from edgeq.convert import convert
    from edgeq.model import read_model

    x, _ = zoo.make_data(SEG, 64, seed=5)
    out = tmp_path / "seg.tflite"
    convert(FIXTURES / SEG / "model.keras", x, out, mode="int8", io="int8", samples=64, seed=0)
    ops = {op.builtin for op in read_model(out.read_bytes()).operators}
    assert {"TRANSPOSE_CONV", "RESIZE_BILINEAR", "CONCATENATION", "SOFTMAX"} <= ops
    rng = np.random.default_rng(7)
    batch = rng.integers(-128, 128, (8, 32, 32, 1)).astype(np.int8)
    engine = run(out, "host-c", [batch]).outputs[0]
    reference = run(out, "host-tflm", [batch]).outputs[0]
    assert engine.shape == (8, 32, 32, 2) and engine.tobytes() == reference.tobytes()


# ---- the IMU activity classifier (edgeq's own, recurrent) ----

IMU = "imu_lstm"
# By hand: LSTM 4 gates x (24 x (6 + 24) weights + 24 biases) = 2,976, dense 24 x 6 + 6 = 150; MACs 48 steps
# x 4 gates x 24 units x (6 + 24) = 138,240 for the LSTM, 144 for the dense layer.
IMU_PARAMS, IMU_MACS = 3_126, 138_384


def test_imu_counts_match_its_layer_shapes() -> None:
    entry = zoo.ZOO[IMU]
    model = _keras_model(IMU)
    assert zoo.count_params(model) == (IMU_PARAMS, IMU_PARAMS) == (entry.params_total, entry.params_trainable)
    assert zoo.count_macs(model) == IMU_MACS == entry.macs
    assert tuple(model.input.shape[1:]) == entry.input_shape == (48, 6)


def test_imu_data_is_seeded_and_its_classes_differ() -> None:
    x, y = zoo.make_data(IMU, 600, seed=3)
    again, _ = zoo.make_data(IMU, 600, seed=3)
    assert x.shape == (600, 48, 6) and np.array_equal(x, again)
    assert set(y.tolist()) == set(range(6))
    motion = x.std(axis=1).mean(axis=1)  # how much a window moves
    idle, run = motion[y == 0].mean(), motion[y == 2].mean()
    assert run > 2 * idle
    assert abs(float(x[..., 2].mean()) - 1.0) < 0.1  # gravity on the device's z axis, tilted a little


def test_imu_fixture_is_the_fused_lstm_and_learnt_its_task() -> None:
    from edgeq.model import read_model
    from edgeq.model.analysis import inspect_model

    folder = FIXTURES / IMU
    graph = read_model((folder / "int8.tflite").read_bytes())
    assert [op.builtin for op in graph.operators] == [
        "UNIDIRECTIONAL_SEQUENCE_LSTM",
        "STRIDED_SLICE",
        "FULLY_CONNECTED",
        "SOFTMAX",
    ]
    operands = {t for op in graph.operators for t in (*op.inputs, *op.outputs) if t >= 0}
    kinds = {graph.tensors[t].dtype for t in operands}
    assert kinds == {"int8", "int16", "int32"}  # int16: the cell state
    assert inspect_model(graph).total_macs == IMU_MACS  # the LSTM's eight weight matrices once per step
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["quality"]["float"] >= 0.75 and meta["quality"]["int8"] >= meta["quality"]["float"] - 0.03
    assert meta["sizes"]["keras"] == (folder / "model.h5").stat().st_size


def test_imu_converts_to_the_fused_lstm_and_the_engine_matches_tflm(tmp_path: Path) -> None:
    """edgeq.convert on the trained tf-keras .h5, then the compiled engine against the TFLM interpreter."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf_keras")
    pytest.importorskip("tflite_micro")
    from edgeq.batch_run import run
    from edgeq.convert import convert
    from edgeq.model import read_model

    x, _ = zoo.make_data(IMU, 64, seed=5)
    out = tmp_path / "imu.tflite"
    convert(FIXTURES / IMU / "model.h5", x, out, mode="int8", io="int8", samples=64, seed=0)
    ops = [op.builtin for op in read_model(out.read_bytes()).operators]
    assert ops.count("UNIDIRECTIONAL_SEQUENCE_LSTM") == 1 and len(ops) == 4, ops
    batch = np.random.default_rng(7).integers(-128, 128, (8, 48, 6)).astype(np.int8)
    engine = run(out, "host-c", [batch]).outputs[0]
    reference = run(out, "host-tflm", [batch]).outputs[0]
    assert engine.shape == (8, 6) and engine.tobytes() == reference.tobytes()
