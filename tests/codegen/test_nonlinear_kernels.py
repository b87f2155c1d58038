"""The engine's non-linear int8 kernels give the same bytes as TFLM's reference kernels.

Each case converts a one-layer Keras model to a fully int8 .tflite (seeded
representative data; the data range sets the input scale), reads the op with
edgeq's reader, computes the kernel parameters with
``edgeq.codegen.engine.nonlinear_params``, runs the C kernel (compiled with host
gcc, called through ctypes) and the tflite-micro interpreter on the same 200
seeded inputs, and compares the outputs byte for byte. Elementwise ops see
every int8 value; SOFTMAX and MEAN also see saturated rows.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
import pytest

from edgeq.codegen.engine import nonlinear_params as nlp
from edgeq.codegen.engine.sources import kernel_dir
from edgeq.model import read_model

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Statistics for quantized inputs:UserWarning")]
tf = pytest.importorskip("tensorflow")
runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")

ENGINE = kernel_dir()
SOURCES = ("edgeq_requant.c", "edgeq_softmax.c", "edgeq_sigmoid.c", "edgeq_leaky_relu_hard_swish.c", "edgeq_reduce.c")
N_INPUTS = 200


@dataclass(frozen=True)
class Case:
    """One converted single-op model: a Keras layer, its input shape and representative range."""

    name: str
    builtin: str
    layer: str
    shape: tuple[int, ...]
    low: float
    high: float
    arg: float | bool | None = None
    patch: str | None = None  # "beta=<x>" or "same_scale": edit the converted flatbuffer

    def keras_layer(self):
        layers = tf.keras.layers
        if self.layer == "softmax":
            return layers.Softmax()
        if self.layer == "leaky_relu":
            return layers.LeakyReLU(negative_slope=self.arg)
        if self.layer == "mean":
            return layers.GlobalAveragePooling2D(keepdims=self.arg)
        return layers.Activation(self.layer)


SOFTMAX = [Case(f"softmax10_r{r}", "SOFTMAX", "softmax", (1, 10), -r, r) for r in (0.1, 1.0, 10.0, 100.0)] + [
    Case("softmax4x12_r1", "SOFTMAX", "softmax", (1, 4, 12), -1.0, 1.0),
    Case("softmax4x12_r30", "SOFTMAX", "softmax", (1, 4, 12), -30.0, 30.0),
    Case("softmax10_zp", "SOFTMAX", "softmax", (1, 10), -1.0, 3.0),
    Case("softmax10_beta0.3", "SOFTMAX", "softmax", (1, 10), -4.0, 4.0, patch="beta=0.3"),
    Case("softmax10_beta2.5", "SOFTMAX", "softmax", (1, 10), -4.0, 4.0, patch="beta=2.5"),
]
ELEMENTWISE = (
    [
        Case(f"{op.lower()}_{lo}_{hi}", op, layer, (1, 256), lo, hi)
        for op, layer in (("LOGISTIC", "sigmoid"), ("TANH", "tanh"))
        for lo, hi in ((-0.5, 0.5), (-4.0, 4.0), (-12.0, 12.0), (-60.0, 60.0), (-2.0, 9.0))
    ]
    + [
        Case(f"leaky{alpha}_{lo}_{hi}", "LEAKY_RELU", "leaky_relu", (1, 256), lo, hi, alpha)
        for alpha in (0.1, 0.3)
        for lo, hi in ((-1.0, 1.0), (-5.0, 2.0))
    ]
    + [
        Case(f"hard_swish_{lo}_{hi}", "HARD_SWISH", "hard_swish", (1, 256), lo, hi)
        for lo, hi in ((-1.0, 1.0), (-6.0, 6.0), (-20.0, 20.0), (-3.0, 10.0))
    ]
)
MEAN = [
    Case("mean_keep", "MEAN", "mean", (1, 5, 7, 8), -1.0, 1.0, True),
    Case("mean_flat", "MEAN", "mean", (1, 5, 7, 8), -1.0, 1.0, False),
    Case("mean_zp", "MEAN", "mean", (1, 3, 3, 16), 0.0, 4.0, False),
    Case("mean_wide", "MEAN", "mean", (1, 12, 12, 4), -50.0, 20.0, True),
    Case("mean_same_scale", "MEAN", "mean", (1, 5, 7, 8), -1.0, 2.0, False, patch="same_scale"),
    Case("mean_same_scale_keep", "MEAN", "mean", (1, 4, 4, 8), -1.0, 1.0, True, patch="same_scale"),
]


def _convert(case: Case) -> bytes:
    keras = tf.keras
    inp = keras.Input(shape=case.shape[1:], batch_size=1)
    model = keras.Model(inp, case.keras_layer()(inp))
    rng = np.random.default_rng(0)

    def representative():
        for _ in range(64):
            yield [rng.uniform(case.low, case.high, size=case.shape).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return _patch(conv.convert(), case.patch)


def _patch(model: bytes, patch: str | None) -> bytes:
    """Edit the converted model with LiteRT's flatbuffer object API (softmax beta, MEAN output quantization)."""
    if patch is None:
        return model
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(model, 0)
    sub = m.subgraphs[0]
    op = sub.operators[0]
    if patch.startswith("beta="):
        op.builtinOptions.beta = float(patch.removeprefix("beta="))
    else:
        src, dst = sub.tensors[op.inputs[0]].quantization, sub.tensors[op.outputs[0]].quantization
        dst.scale, dst.zeroPoint = list(src.scale), list(src.zeroPoint)
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.fixture(scope="module")
def models():
    """Converts each case at most once per module."""
    cache: dict[str, bytes] = {}

    def get(case: Case) -> bytes:
        if case.name not in cache:
            cache[case.name] = _convert(case)
        return cache[case.name]

    return get


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    gcc = shutil.which("gcc") or pytest.skip("host gcc is not installed")
    out = tmp_path_factory.mktemp("nonlinear") / "libedgeq_nonlinear.so"
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-fPIC", "-shared"]
    proc = subprocess.run(
        [gcc, *flags, "-o", str(out), *(str(ENGINE / s) for s in SOURCES)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return ctypes.CDLL(str(out))


def _struct(name: str) -> type[ctypes.Structure]:
    """A ctypes mirror of an all-int32 parameter struct, read from edgeq_kernels.h (so it cannot drift)."""
    header = (ENGINE / "edgeq_kernels.h").read_text()
    body = re.search(r"typedef struct \{([^{}]*)\}\s*" + name + ";", header).group(1)
    fields: list[str] = []
    for decl in filter(None, (d.strip() for d in re.sub(r"/\*.*?\*/", "", body, flags=re.S).split(";"))):
        ctype, names = decl.split(None, 1)
        assert ctype == "int32_t", f"{name}: {decl}"
        fields += [n.strip() for n in names.split(",")]
    return type(name, (ctypes.Structure,), {"_fields_": [(f, ctypes.c_int32) for f in fields]})


def _inputs(shape: tuple[int, ...], seed: int) -> list[np.ndarray]:
    """200 seeded int8 inputs: every int8 value first (elementwise ops), saturated rows, then random."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    depth = shape[-1]
    special = [
        np.resize(np.arange(-128, 128, dtype=np.int8), size),
        np.full(size, -128, np.int8),
        np.full(size, 127, np.int8),
        np.where(np.arange(size) % depth == 0, 127, -128).astype(np.int8),  # one hot per row
        np.where(np.arange(size) % depth < 2, 127, -128).astype(np.int8),  # two maxima per row
        np.where(np.arange(size) % 2 == 0, 127, -128).astype(np.int8),
        np.resize(np.arange(127, -129, -1, dtype=np.int8), size),
    ]
    rows = [x.reshape(shape) for x in special]
    while len(rows) < N_INPUTS:
        lo, hi = sorted(rng.integers(-128, 128, size=2))
        rows.append(rng.integers(lo, hi + 1, size=shape, dtype=np.int8))
    return rows


def _tflm(model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    interp = runtime.Interpreter.from_bytes(model, arena_size=64 * 1024)
    outs = []
    for x in inputs:
        interp.set_input(x, 0)
        interp.invoke()
        outs.append(np.array(interp.get_output(0), dtype=np.int8))
    return outs


def _engine(fn, params: ctypes.Structure, inputs: list[np.ndarray], out_shape: tuple[int, ...]) -> list[np.ndarray]:
    fn.restype = None
    outs = []
    for x in inputs:
        src = np.ascontiguousarray(x, dtype=np.int8)
        dst = np.zeros(out_shape, np.int8)
        fn(ctypes.byref(params), src.ctypes.data_as(ctypes.c_void_p), dst.ctypes.data_as(ctypes.c_void_p))
        outs.append(dst)
    return outs


def _params(case: Case, model: bytes) -> tuple[str, ctypes.Structure, tuple[int, ...]]:
    """The kernel name, its filled parameter struct and the output shape, from the model alone."""
    graph = read_model(model)
    (op,) = graph.operators
    assert op.builtin == case.builtin
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    xs, xz = x.quantization.scale[0], x.quantization.zero_point[0]
    ys, yz = y.quantization.scale[0], y.quantization.zero_point[0]
    if case.builtin == "SOFTMAX":
        assert (ys, yz) == (1 / 256, -128)
        p = nlp.softmax_params(op.options["beta"], xs)
        return (
            "eq_softmax_s8",
            _struct("eq_softmax_params")(rows=x.size // x.shape[-1], depth=x.shape[-1], **p),
            y.shape,
        )
    if case.builtin in ("LOGISTIC", "TANH"):
        fn, fill = (
            ("eq_logistic_s8", nlp.logistic_params) if case.builtin == "LOGISTIC" else ("eq_tanh_s8", nlp.tanh_params)
        )
        return fn, _struct("eq_sigmoid_params")(size=x.size, **fill(xs, xz)), y.shape
    if case.builtin == "LEAKY_RELU":
        p = nlp.leaky_relu_params(op.options["alpha"], xs, xz, ys, yz)
        return "eq_leaky_relu_s8", _struct("eq_unary_params")(size=x.size, **p), y.shape
    if case.builtin == "HARD_SWISH":
        p = nlp.hard_swish_params(xs, xz, ys, yz)
        return "eq_hard_swish_s8", _struct("eq_hard_swish_params")(size=x.size, **p), y.shape
    assert list(graph.tensors[op.inputs[1]].numpy()) == [1, 2] and op.options["keep_dims"] == case.arg
    _, h, w, c = x.shape
    p = nlp.mean_params(xs, xz, ys, yz, h * w)
    return "eq_mean_hw_s8", _struct("eq_mean_params")(in_h=h, in_w=w, channels=c, **p), y.shape


@pytest.mark.parametrize("case", SOFTMAX + ELEMENTWISE + MEAN, ids=lambda c: c.name)
def test_kernel_matches_tflm(case, models, lib):
    model = models(case)
    fn, params, out_shape = _params(case, model)
    inputs = _inputs(case.shape, seed=len(case.name))
    expected = _tflm(model, inputs)
    got = _engine(getattr(lib, fn), params, inputs, out_shape)
    bad = [i for i, (e, g) in enumerate(zip(expected, got)) if e.tobytes() != g.tobytes()]
    assert not bad, (
        f"{len(bad)} of {len(inputs)} inputs differ; first {bad[0]}: {inputs[bad[0]]} -> tflm {expected[bad[0]]} engine {got[bad[0]]}"
    )


def test_same_scale_cases_have_equal_quantization(models):
    """The patched MEAN models really have equal input and output quantization (TFLM still requantizes)."""
    for case in (c for c in MEAN if c.patch == "same_scale"):
        graph = read_model(models(case))
        x, y = graph.tensors[graph.operators[0].inputs[0]], graph.tensors[graph.operators[0].outputs[0]]
        assert x.quantization == y.quantization


def test_quantize_multiplier_edges():
    assert nlp._quantize_multiplier(0.0) == (0, 0)
    assert nlp._quantize_multiplier(0.5) == (1 << 30, 0)
    assert nlp._quantize_multiplier(1.0 - 2.0**-40) == (1 << 30, 1)  # mantissa rounds up to 2^31
    assert nlp._quantize_multiplier(2.0**-40) == (0, 0)  # shift < -31 flushes to zero
    assert nlp._quantize_multiplier(-0.75) == (-(3 << 29), 0)


def test_softmax_params_known_values():
    # beta * scale * 2^26 = 2^18 -> multiplier 2^30, shift 19; radius 31 * 2^26 / 2^19.
    assert nlp.softmax_params(1.0, 1 / 256) == {"input_multiplier": 1 << 30, "input_left_shift": 19, "diff_min": -3968}
    with pytest.raises(ValueError, match="too small"):
        nlp.softmax_params(1.0, 2.0**-30)


def test_mean_params_fold_one_over_count():
    p = nlp.mean_params(0.5, 3, 0.25, -2, 35)  # real 2 -> (2^30, 2); 35 -> fold 5
    assert (p["mult"], p["shift"]) == (((1 << 30) << 5) // 35, 2 - 5)
    assert nlp.mean_params(1.0, 0, 1.0, 0, 1 << 40)["shift"] == 1 - 32  # the fold is capped at 32


def test_hard_swish_rejects_left_shift_output():
    with pytest.raises(ValueError, match="too large"):
        nlp.hard_swish_params(1.0, 0, 1e-3, 0)
