"""RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR, TRANSPOSE_CONV and BATCH_MATMUL: what the engine refuses, and how.

The bytes of every supported variant are checked against tflite-micro by
tests/codegen/test_engine.py (the ``resize_*``, ``tconv_*`` and ``bmm_*`` models
of the op suite). Here: a model the engine cannot run, or whose operands
contradict each other, fails in one line naming the op, its index and the
problem, before any C is written; and the TFLM project generator registers the
kernels.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from edgeq.codegen import generate
from edgeq.codegen.context import model_context
from edgeq.codegen.engine.build import build_engine
from edgeq.codegen.engine.lower_batch_matmul import batch_offsets
from edgeq.codegen.engine.lower_spatial import bilinear_scale, nearest_indices
from edgeq.errors import EdgeqError, ModelFormatError, UnsupportedError
from edgeq.model import read_model
from tests.conftest import FIXTURES, repack
from tests.corrupt_models import set_shape

OPS = FIXTURES / "ops"


def edited(name: str, edit) -> bytes:
    return repack((OPS / f"{name}.tflite").read_bytes(), edit)


def engine_error(data: bytes) -> EdgeqError:
    graph = read_model(data)
    with pytest.raises(EdgeqError) as exc:
        build_engine(graph, model_context(graph, "m.tflite", "net"))
    message = str(exc.value)
    assert "\n" not in message and len(message) < 600, message
    return exc.value


@pytest.mark.parametrize("name", ["resize_nearest_align_corners", "resize_bilinear_align_corners"])
def test_align_corners_with_half_pixel_centers_is_refused_by_name(name):
    def edit(model):
        model.subgraphs[0].operators[0].builtinOptions.halfPixelCenters = True

    err = engine_error(edited(name, edit))
    assert isinstance(err, UnsupportedError)
    assert "op 0 RESIZE_" in str(err) and "align_corners together with half_pixel_centers" in str(err)


@pytest.mark.parametrize("name", ["resize_nearest_up2", "resize_bilinear_up2"])
def test_resize_to_another_quantization_is_refused(name):
    def edit(model):
        out = model.subgraphs[0].tensors[model.subgraphs[0].operators[0].outputs[0]]
        out.quantization.scale = np.array([out.quantization.scale[0] * 2], np.float32)

    err = engine_error(edited(name, edit))
    assert isinstance(err, UnsupportedError)
    assert str(err).endswith("different input and output quantization is not supported by the edgeq engine")


def test_resize_size_operand_must_match_the_output():
    def edit(model):
        sub = model.subgraphs[0]
        set_shape(sub.tensors[sub.operators[0].outputs[0]], 1, 8, 9, 3)

    err = engine_error(edited("resize_nearest_up2", edit))
    assert isinstance(err, ModelFormatError)
    assert "op 0 RESIZE_NEAREST_NEIGHBOR: its output" in str(err) and "should be [1, 8, 10, 3]" in str(err)


def test_transpose_conv_input_must_fit_the_output():
    def edit(model):
        set_shape(model.subgraphs[0].tensors[0], 1, 3, 5, 3)  # 8x10 SAME stride 2 transposes a 4x5 input

    err = engine_error(edited("tconv_k3_s2_same_bias", edit))
    assert isinstance(err, ModelFormatError)
    assert "op 0 TRANSPOSE_CONV: input tensor 0" in str(err) and "should be 4x5" in str(err)


def test_transpose_conv_bias_must_have_one_value_per_channel():
    def edit(model):
        bias = model.subgraphs[0].tensors[model.subgraphs[0].operators[0].inputs[3]]
        set_shape(bias, 3)
        model.buffers[bias.buffer].data = model.buffers[bias.buffer].data[:12]
        bias.quantization.scale, bias.quantization.zeroPoint = (
            bias.quantization.scale[:3],
            bias.quantization.zeroPoint[:3],
        )

    err = engine_error(edited("tconv_k3_s2_same_bias", edit))
    assert isinstance(err, ModelFormatError)
    assert "the bias tensor" in str(err) and "3 values for 4 output channels" in str(err)


def test_transpose_conv_batch_is_refused_by_name():
    def edit(model):
        sub = model.subgraphs[0]
        op = sub.operators[0]
        set_shape(sub.tensors[op.inputs[2]], 2, 4, 5, 3)
        set_shape(sub.tensors[op.outputs[0]], 2, 8, 10, 4)
        model.buffers[sub.tensors[op.inputs[0]].buffer].data = np.array([2, 8, 10, 4], np.int32).view(np.uint8)

    err = engine_error(edited("tconv_k3_s2_same_bias", edit))
    assert isinstance(err, UnsupportedError)
    assert str(err) == "op 0 TRANSPOSE_CONV: batch 2 is not supported by the edgeq engine"


def test_nearest_indices_follow_the_flags():
    assert nearest_indices(8, 4, False, True) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert nearest_indices(7, 4, True, False) == [0, 1, 1, 2, 2, 3, 3]  # 3/6 per step, halves rounded up
    assert nearest_indices(3, 5, False, False) == [0, 1, 3]
    assert bilinear_scale(4, 8, False) == 512 and bilinear_scale(4, 7, True) == 512


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("resize_nearest_up2", "AddResizeNearestNeighbor"),
        ("resize_bilinear_up2", "AddResizeBilinear"),
        ("tconv_k3_s2_same_bias", "AddTransposeConv"),
        ("bmm_rank4", "AddBatchMatMul"),
    ],
)
def test_tflm_project_registers_the_kernel(name, method, tmp_path):
    generate(OPS / f"{name}.tflite", "tflm", tmp_path / "project", name="net")
    assert f"resolver.{method}()" in (tmp_path / "project" / "net_ops.h").read_text()


def test_batch_matmul_output_must_match_its_operands():
    def edit(model):
        sub = model.subgraphs[0]
        set_shape(sub.tensors[sub.operators[0].outputs[0]], 1, 3, 4)

    err = engine_error(edited("bmm_adj_y", edit))
    assert isinstance(err, ModelFormatError)
    assert str(err).startswith("op 0 BATCH_MATMUL: tensor 0") and "does not give output tensor" in str(err)


def test_batch_matmul_offsets_broadcast_the_batch_dimensions():
    assert batch_offsets((1, 2, 3, 4), (1, 1, 4, 5)) == ([0, 12], [0, 0])
    assert batch_offsets((3, 4), (2, 4, 5)) == ([0, 0], [0, 20])


def _m4_harness():
    script = FIXTURES.parent.parent / "scripts" / "count_m4_instructions.py"
    spec = importlib.util.spec_from_file_location("count_m4", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# TRANSPOSE_CONV's SMLAD dot products: 6 input channels (a group of four and a tail), 4 (one group),
# and the segmenter's 32; the bilinear kernel; outputs of four samples against the host-c engine
@pytest.mark.parametrize(
    "path",
    [
        OPS / "tconv_k4_s2_same_per_tensor.tflite",
        OPS / "tconv_k5_s3_same_no_bias.tflite",
        OPS / "resize_bilinear_odd.tflite",
        FIXTURES / "zoo" / "seg_unet" / "int8.tflite",
    ],
    ids=lambda p: p.parent.name if p.name == "int8.tflite" else p.stem,
)
def test_simd32_engine_on_cortex_m4_matches_host(path):
    pytest.importorskip("tflite_micro", reason="host-c builds need the same set-up as the other engine tests")
    harness = _m4_harness()
    if harness.tools() is None:
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm (apt: gcc-arm-none-eabi qemu-system-arm)")
    result = harness.measure(path, samples=4)
    assert result["matches_host"], f"{path.stem}: Cortex-M4 outputs differ from host-c"


def test_bilinear_scale_that_would_read_past_the_input_is_refused():
    """align_corners from 4 to 2049 rows: the scale rounds to 2 / 1024 pixel, so the last row would start at row 4."""

    def edit(model):
        sub = model.subgraphs[0]
        op = sub.operators[0]
        set_shape(sub.tensors[op.outputs[0]], 1, 2049, 9, 3)
        model.buffers[sub.tensors[op.inputs[1]].buffer].data = np.array([2049, 9], np.int32).view(np.uint8)

    err = engine_error(edited("resize_bilinear_align_corners", edit))
    assert isinstance(err, UnsupportedError)
    assert "op 0 RESIZE_BILINEAR: resizing 4 to 2049 pixels" in str(err)
