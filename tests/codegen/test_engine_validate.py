"""The engine generator refuses models whose numbers contradict each other, and only those.

Each corruption is written into a small model of the op suite with LiteRT's
flatbuffer object API: the edgeq reader accepts the file (every offset and size
lies in it), but a shape, a scale or a zero point disagrees with the rest. The
generator must name the op, the tensor and the mismatch in one line, before it
plans or writes anything. Models that tflite-micro runs correctly despite
metadata it ignores must stay accepted, with the engine's outputs equal to TFLM's.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from edgeq.batch_run import run
from edgeq.codegen.context import model_context
from edgeq.codegen.engine.build import build_engine
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.validate import MAX_ARENA_BYTES
from edgeq.errors import EdgeqError, ModelFormatError, UnsupportedError
from edgeq.model import read_model
from tests.conftest import FIXTURES, repack
from tests.corrupt_models import huge_fc_input, huge_fc_weight_zero_point, set_shape, stale_bias_axis

OPS = FIXTURES / "ops"


def edited(name: str, edit) -> bytes:
    """Fixture ``ops/NAME.tflite`` with ``edit(model)`` applied to its LiteRT object tree."""
    return repack((OPS / f"{name}.tflite").read_bytes(), edit)


def tensors(model) -> list:
    return model.subgraphs[0].tensors


def engine_error(data: bytes) -> EdgeqError:
    graph = read_model(data)
    with pytest.raises(EdgeqError) as exc:
        build_engine(graph, model_context(graph, "m.tflite", "net"))
    message = str(exc.value)
    assert "\n" not in message and len(message) < 600, message
    return exc.value


def test_fc_output_must_match_input_and_weights(tmp_path):
    err = engine_error(huge_fc_input())
    assert isinstance(err, ModelFormatError)
    assert str(err).startswith(
        "op 0 FULLY_CONNECTED: its output tensor 3 'Identity' [1, 16] should hold 1073741824 x 16"
    )


def test_fc_input_must_divide_into_rows():
    def edit(model):
        set_shape(tensors(model)[0], 1, 12)  # weights are 7 x 10

    err = engine_error(edited("fc_b1_bias", edit))
    assert "input tensor 0 'x' [1, 12] has 12 elements, not a multiple of 10" in str(err)


def test_fc_bias_must_have_one_value_per_output():
    def edit(model):
        set_shape(tensors(model)[1], 5)
        model.buffers[tensors(model)[1].buffer].data = np.zeros(20, np.uint8)

    assert "the bias tensor 1 'add' [5] has 5 values for 7 output channels" in str(
        engine_error(edited("fc_b1_per_tensor", edit))
    )


def test_fc_weight_zero_point_must_fit_int8():
    """The per-tensor weight zero point becomes the kernel's int32 weight_offset."""
    err = engine_error(huge_fc_weight_zero_point())
    assert "weights tensor 2 'MatMul' [7, 10] have zero point 717259538432, outside [-128, 127]" in str(err)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda m: set_shape(tensors(m)[3], 1, 7, 13, 9), "should have 6 channels, as the weights"),
        (lambda m: set_shape(tensors(m)[3], 1, 7, 12, 6), "should be [1, 7, 13, ...] for input tensor 0 'x'"),
        (
            lambda m: set_shape(tensors(m)[0], 1, 7, 13, 4),
            "input tensor 0 'x' [1, 7, 13, 4] has channels that filters of 5",
        ),
        (
            lambda m: setattr(m.subgraphs[0].operators[0].builtinOptions, "strideW", 0),
            "width: size 13, kernel 3, stride 0",
        ),
    ],
    ids=["out-channels", "out-width", "in-channels", "stride-0"],
)
def test_conv_shapes_must_follow_from_input_and_options(edit, expected):
    err = engine_error(edited("conv_k3_s1_same_relu", edit))
    assert isinstance(err, ModelFormatError) and expected in str(err), str(err)


@pytest.mark.parametrize(
    ("name", "op"),
    [
        ("dw_k3_m1_s1_same_relu6", "DEPTHWISE_CONV_2D"),
        ("maxpool_k2_s2_valid", "MAX_POOL_2D"),
        ("avgpool_k3_s1_same", "AVERAGE_POOL_2D"),
        ("add_broadcast_row", "ADD"),
        ("mul_same_shape", "MUL"),
        ("concat_channels", "CONCATENATION"),
        ("pad_all_axes", "PAD"),
        ("slice_plain", "STRIDED_SLICE"),
        ("mean_gap", "MEAN"),
        ("softmax_2d", "SOFTMAX"),
        ("reshape_only", "RESHAPE"),
    ],
)
def test_output_one_element_too_wide(name, op):
    """The graph output's last dimension one larger than the op computes: refused, naming the op."""

    def edit(model):
        out = tensors(model)[model.subgraphs[0].outputs[0]]
        set_shape(out, *out.shape[:-1], out.shape[-1] + 1)

    err = engine_error(edited(name, edit))
    assert isinstance(err, ModelFormatError) and f" {op}: " in str(err), str(err)


def test_weight_scales_must_match_output_channels():
    def edit(model):
        q = tensors(model)[2].quantization  # 6 scales along axis 0 of [6, 3, 3, 5]
        q.scale, q.zeroPoint, q.quantizedDimension = np.full(5, 0.01, np.float32), np.zeros(5, np.int64), 3

    err = engine_error(edited("conv_k3_s1_same_relu", edit))
    assert "the weights tensor 2 'Conv2D' [6, 3, 3, 5] have 5 scales for 6 output channels" in str(err)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda m: setattr(tensors(m)[1].quantization, "zeroPoint", np.array([300])), "has zero point 300, outside"),
        (lambda m: setattr(tensors(m)[0].quantization, "scale", np.array([0.0], np.float32)), "scale 0.0, which must"),
        (lambda m: set_shape(tensors(m)[1], 1, 4, 5, 4), "should have the 60 elements of tensor 0"),
    ],
    ids=["zero-point", "zero-scale", "output-size"],
)
def test_activations_must_be_consistent(edit, expected):
    err = engine_error(edited("relu", edit))
    assert isinstance(err, ModelFormatError) and expected in str(err), str(err)


def test_activation_bounds_must_fit_int32():
    """RELU6 clamps at 6 / input scale; TFLM converts that to int32, undefined in C when it does not fit."""

    def edit(model):
        tensors(model)[0].quantization.scale = np.array([1e-30], np.float32)

    err = engine_error(edited("relu6", edit))
    assert str(err).startswith("op 0 RELU6: 6 / scale 1e-30 does not fit int32")


def test_multiplier_must_fit_the_kernels_shift():
    def edit(model):
        tensors(model)[3].quantization.scale = np.array([1e-30], np.float32)

    assert "is 2^" in str(engine_error(edited("fc_b1_bias", edit)))


def test_graph_output_must_be_written():
    def edit(model):
        model.subgraphs[0].outputs = np.array([1], np.int32)  # the bias: a constant

    assert "graph output tensor 1 'add' [7]" in str(engine_error(edited("fc_b1_bias", edit)))


def test_tensor_larger_than_the_arena_limit():
    elements = MAX_ARENA_BYTES + 16

    def edit(model):
        set_shape(tensors(model)[0], 1, elements)
        set_shape(tensors(model)[1], 1, elements)

    err = engine_error(edited("softmax_2d", edit))
    assert isinstance(err, UnsupportedError) and "more than the engine's arena limit of 268,435,456" in str(err)


def test_arena_larger_than_the_limit():
    """Two tensors below the limit, alive together, above it."""
    elements = MAX_ARENA_BYTES // 2 + 4096

    def edit(model):
        set_shape(tensors(model)[0], 1, elements)
        set_shape(tensors(model)[1], 1, elements)

    err = engine_error(edited("softmax_2d", edit))
    assert "the engine's arena would take" in str(err) and "more than its limit" in str(err)


def test_parameters_outside_int32_are_refused():
    em = Emitter(read_model(OPS / "relu.tflite"), "net", {})
    with pytest.raises(
        ModelFormatError, match=r"parameter net_op4_params.weight_offset of the engine would be -717259538432"
    ):
        em.struct("eq_fc_params", "net_op4_params", {"batches": 1, "weight_offset": -717259538432})
    with pytest.raises(ModelFormatError, match=r"net_op0_channels"):
        em.channel_table("net_op0_channels", ((0, 1 << 31, 0, 0),))


def test_cli_refuses_with_one_line(tmp_path):
    """`edgeq generate --format engine` on the 1 x 2^30 FULLY_CONNECTED: exit 1, one error line, nothing written."""
    model = tmp_path / "fc.tflite"
    model.write_bytes(huge_fc_input())
    out = tmp_path / "engine"
    done = subprocess.run(
        [sys.executable, "-m", "edgeq", "generate", str(model), "--format", "engine", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: op 0 FULLY_CONNECTED: its output tensor 3") and done.stderr.count("\n") == 1
    assert not (out / "fc.c").exists()


# ---- metadata TFLM ignores stays accepted, and the engine agrees with TFLM ----


def _same_as_tflm(data: bytes, tmp_path) -> None:
    pytest.importorskip("tflite_micro")
    model = tmp_path / "m.tflite"
    model.write_bytes(data)
    graph = read_model(data)
    rng = np.random.default_rng(7)
    inputs = [rng.integers(-128, 128, (5, *t.shape[1:])).astype(np.int8) for t in graph.input_tensors]
    engine = run(model, "host-c", inputs).outputs
    tflm = run(model, "host-tflm", inputs).outputs
    assert [o.tobytes() for o in engine] == [o.tobytes() for o in tflm]


def test_per_channel_bias_with_a_stale_quantized_dimension(tmp_path):
    """Older converters wrote the weights' axis (3) into the 1-D bias; TFLM ignores it."""
    data = stale_bias_axis()
    assert read_model(data).tensors[1].quantization.per_channel
    _same_as_tflm(data, tmp_path)


def test_per_channel_fc_weight_zero_point_is_ignored(tmp_path):
    """Per-channel weights are symmetric: TFLM ignores their zero points, so does the engine (weight_offset 0)."""

    def edit(model):
        tensors(model)[2].quantization.zeroPoint = np.full(7, 717259538432, np.int64)

    _same_as_tflm(edited("fc_b1_bias", edit), tmp_path)
