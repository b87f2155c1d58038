"""SUB ... PRELU and the byte-moving ops (TRANSPOSE ... GATHER) beyond the op suite's bit-exactness.

test_engine.py runs every suite model of these ops against tflite-micro. Here:
the permutation parameters against numpy for every rank the kernel takes, a
SPLIT whose unused outputs the graph drops (still the same bytes as TFLM),
each op known to ``edgeq generate --format tflm``, and the one-line refusals of
models the engine cannot or must not run (the reader itself refuses a missing output).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgeq.batch_run import run
from edgeq.codegen import generate
from edgeq.codegen.context import model_context
from edgeq.codegen.engine.build import build_engine
from edgeq.codegen.engine.lower_shape import PERMUTE_RANK, permute_params
from edgeq.codegen.tflm_ops import resolver_methods
from edgeq.errors import EdgeqError, ModelFormatError, UnsupportedError
from edgeq.model import read_model
from tests.conftest import FIXTURES, repack

pytest.importorskip("tflite_micro")

OPS = FIXTURES / "ops"


def _walk(fields: dict[str, list[int]]) -> np.ndarray:
    """The input offsets eq_permute_s8 reads, in output order (its loop nest over shape and strides)."""
    ranges = [np.arange(n) * s for n, s in zip(fields["shape"], fields["strides"])]
    total = sum(np.ix_(*ranges)) if ranges else np.zeros(1)
    return np.asarray(total).reshape(-1)


@pytest.mark.parametrize("rank", range(1, PERMUTE_RANK + 1))
def test_permute_params_walk_the_input_as_numpy_transposes_it(rank):
    rng = np.random.default_rng(rank)
    for _ in range(20):
        shape = [int(d) for d in rng.integers(1, 4, rank)]
        perm = [int(p) for p in rng.permutation(rank)]
        fields = permute_params(shape, perm)
        assert len(fields["shape"]) == len(fields["strides"]) == PERMUTE_RANK
        want = np.transpose(np.arange(math.prod(shape)).reshape(shape), perm).reshape(-1)
        assert _walk(fields).tolist() == want.tolist(), (shape, perm, fields)


def test_permute_params_merge_axes_that_stay_contiguous():
    """NHWC -> NCHW of 1x4x5x3: H and W stay neighbours (one axis of 20), C becomes the outer axis."""
    fields = permute_params([1, 4, 5, 3], [0, 3, 1, 2])
    assert fields["shape"][-2:] == [3, 20] and fields["strides"][-2:] == [1, 3]
    assert permute_params([2, 3], [0, 1]) == {"shape": [1] * 5 + [6], "strides": [0] * 5 + [1]}


def test_split_with_unused_outputs_matches_tflm():
    """Only the middle part is a graph output: the other two are written to arena space nothing reads."""

    def edit(model):
        model.subgraphs[0].outputs = model.subgraphs[0].outputs[1:2]

    data = repack((OPS / "split_channels.tflite").read_bytes(), edit)
    graph = read_model(data)
    assert [op.builtin for op in graph.operators] == ["SPLIT"] and len(graph.outputs) == 1
    rng = np.random.default_rng(0)
    x = [rng.integers(-128, 128, (20, *graph.tensors[graph.inputs[0]].shape[1:])).astype(np.int8)]
    got, want = run(data, "host-c", x).outputs, run(data, "host-tflm", x).outputs
    assert len(got) == len(want) == 1 and got[0].shape == want[0].shape and got[0].shape[-1] == 2
    assert got[0].tobytes() == want[0].tobytes()


OP_MODELS = {
    "SUB": "sub_broadcast_both_relu6",
    "SQUARED_DIFFERENCE": "squared_difference_broadcast",
    "MAXIMUM": "maximum_broadcast",
    "MINIMUM": "minimum_broadcast",
    "PRELU": "prelu_shared_hw",
    "TRANSPOSE": "transpose_rank5",
    "DEPTH_TO_SPACE": "depth_to_space_b2",
    "SPACE_TO_DEPTH": "space_to_depth_b2",
    "SPLIT": "split_channels",
    "SPLIT_V": "split_v_width",
    "PACK": "pack_axis1",
    "UNPACK": "unpack_axis1",
    "GATHER": "gather_batch_dims",
}


def test_tflm_projects_register_the_ops(tmp_path):
    """Every op has its resolver method; a whole project is generated (and its arena measured) for one."""
    graphs = [read_model(OPS / f"{name}.tflite") for name in OP_MODELS.values()]
    methods = resolver_methods((op.builtin, op.custom_code) for g in graphs for op in g.operators)
    camel = {"SQUARED_DIFFERENCE": "SquaredDifference", "DEPTH_TO_SPACE": "DepthToSpace"}
    camel |= {"SPACE_TO_DEPTH": "SpaceToDepth", "SPLIT_V": "SplitV", "PRELU": "Prelu"}
    assert methods == ["Add" + camel.get(op, op.capitalize()) for op in OP_MODELS]
    report = generate(OPS / "split_channels.tflite", "tflm", tmp_path / "tflm", name="net")
    assert report.resolver_methods == ("AddSplit",)
    assert "resolver.AddSplit()" in (tmp_path / "tflm" / "net_ops.h").read_text()


# ---- refusals: one line naming the op ----


def _error(name: str, edit) -> EdgeqError:
    graph = read_model(repack((OPS / f"{name}.tflite").read_bytes(), edit))
    with pytest.raises(EdgeqError) as exc:
        build_engine(graph, model_context(graph, "m.tflite", "net"))
    message = str(exc.value)
    assert "\n" not in message and message.startswith("op 0 "), message
    return exc.value


def _set_ints(model, tensor: int, values: list[int]) -> None:
    t = model.subgraphs[0].tensors[tensor]
    model.buffers[t.buffer].data = np.asarray(values, np.int32).view(np.uint8)
    t.shape = [len(values)]


def _set_option(name: str, value: int):
    def edit(model):
        setattr(model.subgraphs[0].operators[0].builtinOptions, name, value)

    return edit


CASES = {
    "gather index out of range": (
        "gather_rows",
        lambda m: _set_ints(m, 1, [4, 0]),
        ModelFormatError,
        "op 0 GATHER: indices [4, 0] are outside axis 1",
    ),
    "transpose perm repeats an axis": (
        "transpose_rank3",
        lambda m: _set_ints(m, 1, [0, 1, 1]),
        ModelFormatError,
        "permutation [0, 1, 1] is not one of the 3 axes",
    ),
    "split count differs from its outputs": (
        "split_channels",
        _set_option("numSplits", 2),
        ModelFormatError,
        "op 0 SPLIT: 2 splits into 3 outputs",
    ),
    "unpack axis outside the input": (
        "unpack_axis1",
        _set_option("axis", 4),
        ModelFormatError,
        "op 0 UNPACK: axis 4 is outside a tensor of rank 4",
    ),
    "depth_to_space block size 0": (
        "depth_to_space_b2",
        _set_option("blockSize", 0),
        ModelFormatError,
        "op 0 DEPTH_TO_SPACE: block size 0",
    ),
    "space_to_depth block that does not divide": (
        "space_to_depth_b2",
        _set_option("blockSize", 4),
        ModelFormatError,
        "are not multiples of block size 4",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_inconsistent_models_are_refused_in_one_line(case):
    name, edit, kind, expected = CASES[case]
    err = _error(name, edit)
    assert isinstance(err, kind) and expected in str(err), str(err)


def test_per_channel_prelu_alpha_is_refused_by_name():
    def edit(model):
        q = model.subgraphs[0].tensors[1].quantization
        q.scale, q.zeroPoint, q.quantizedDimension = [0.01, 0.02, 0.03], [0, 0, 0], 2

    err = _error("prelu_shared_hw", edit)
    assert isinstance(err, UnsupportedError)
    assert "op 0 PRELU:" in str(err) and "quantized per channel (3 scales)" in str(err)


def test_binary_broadcast_beyond_rank_4_is_refused_by_name():
    def edit(model):
        for t in model.subgraphs[0].tensors:
            t.shape = [1, *t.shape]
            t.shapeSignature = None

    err = _error("sub_broadcast_both_relu6", edit)
    assert isinstance(err, UnsupportedError) and "op 0 SUB: broadcast of rank 5" in str(err), str(err)
