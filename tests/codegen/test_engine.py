"""The compiled engine against tflite-micro, byte for byte, on every fixture model.

Models: the op-coverage suite (tests/fixtures/ops, built by
scripts/make_op_suite.py), the zoo's int8 models and tests/fixtures/tflite's
int8 models. Each gets 100 seeded input samples: all at the dtype's minimum
(-128, or -32768 for the int16 inputs of the ``s16_*`` models), all at its
maximum, alternating extremes, then random values; a float32 input spans 1.5 times the range its
QUANTIZE op represents, with rounding ties and zeros. ``run(model, "host-c")``
and ``run(model, "host-tflm")`` must return the same bytes (``host``, LiteRT,
for the ops TFLM has no kernel for, as index.json says). The generated
sources compile warning-free with host gcc and arm-none-eabi-gcc, the engine
runs clean under AddressSanitizer and UndefinedBehaviorSanitizer with the same
outputs, and a model the engine cannot run fails with an UnsupportedError that
names the op and its index.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import zlib
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from edgeq.batch_run import run
from edgeq.codegen import generate
from edgeq.errors import UnsupportedError
from edgeq.model import Graph, read_model
from edgeq.model.io import sample_shape
from tests.conftest import FIXTURES

pytest.importorskip("tflite_micro")

SAMPLES = 100
OPS = FIXTURES / "ops"
INDEX: dict[str, dict] = json.loads((OPS / "index.json").read_text())
STRICT = ("-std=c99", "-Wall", "-Wextra", "-Werror")
ARM = ("-mcpu=cortex-m4", "-mthumb", "-O2")
SANITIZE = ("-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g")
# model id -> why the comparison fails (run as strict xfail)
KNOWN_FAILURES: dict[str, str] = {}


def _suite() -> dict[str, Path]:
    models = {f"ops/{n}": OPS / f"{n}.tflite" for n, entry in sorted(INDEX.items()) if entry["supported"]}
    models.update({f"zoo/{p.parent.name}": p for p in sorted((FIXTURES / "zoo").glob("*/int8.tflite"))})
    models.update({f"tflite/{p.stem}": p for p in sorted((FIXTURES / "tflite").glob("*int8*.tflite"))})
    return models


MODELS = _suite()
UNSUPPORTED = {
    f"ops/{n}": (OPS / f"{n}.tflite", rf"{entry['op']} \(op \d+\)")
    for n, entry in sorted(INDEX.items())
    if not entry["supported"]
}
UNSUPPORTED["tflite/conv_float"] = (FIXTURES / "tflite" / "conv_float.tflite", r"op 0 CONV_2D: float32 tensor")


def _params() -> list:
    marks = {k: pytest.mark.xfail(strict=True, reason=r) for k, r in KNOWN_FAILURES.items()}
    return [pytest.param(k, id=k, marks=marks.get(k, ())) for k in MODELS]


# ---- inputs and outputs ----


@cache
def _graph(key: str) -> Graph:
    return read_model(MODELS[key])


@cache
def inputs(key: str) -> tuple[np.ndarray, ...]:
    """SAMPLES seeded samples per model input (a leading sample axis)."""
    graph = _graph(key)
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    return tuple(_samples(graph, t, rng) for t in graph.inputs)


def _samples(graph: Graph, index: int, rng: np.random.Generator) -> np.ndarray:
    tensor = graph.tensors[index]
    shape = (SAMPLES, *sample_shape(tensor.shape))
    if tensor.dtype == "float32":
        return _float_samples(graph, index, shape, rng)
    assert tensor.dtype in ("int8", "int16"), tensor.dtype
    info = np.iinfo(tensor.dtype)
    x = rng.integers(info.min, info.max + 1, shape).astype(tensor.dtype)
    x[0], x[1] = info.min, info.max
    x[2] = np.where(np.arange(x[2].size) % 2 == 0, info.min, info.max).reshape(shape[1:])
    return x


def _float_samples(graph: Graph, index: int, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Floats around what the consuming QUANTIZE op represents: saturating, ties, zeros, random."""
    quantize = next(op for op in graph.operators if op.builtin == "QUANTIZE" and op.inputs[0] == index)
    q = graph.tensors[quantize.outputs[0]].quantization
    scale, zp = float(q.scale[0]), int(q.zero_point[0])
    lo, hi = (-128 - zp) * scale, (127 - zp) * scale
    margin = 0.25 * (hi - lo)
    x = rng.uniform(lo - margin, hi + margin, shape).astype(np.float32)
    x[0], x[1], x[3] = lo - margin, hi + margin, 0.0
    x[2] = ((rng.integers(-128, 127, shape[1:]) + 0.5 - zp) * scale).astype(np.float32)
    return x


@cache
def engine_outputs(key: str) -> tuple[np.ndarray, ...]:
    return tuple(run(MODELS[key], "host-c", list(inputs(key))).outputs)


def assert_same_bytes(got, want, what: str) -> None:
    """Same count, dtypes, shapes and bytes; else name the first differing positions."""
    assert len(got) == len(want), f"{what}: {len(got)} outputs, expected {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        assert (g.dtype, g.shape) == (w.dtype, w.shape), (
            f"{what}: output {k} is {g.dtype}{g.shape}, not {w.dtype}{w.shape}"
        )
        if g.tobytes() != w.tobytes():
            raise AssertionError(f"{what}: output {k} differs in {_count(g, w)} values; first {_first_diffs(g, w)}")


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(f"u{a.dtype.itemsize}")


def _count(g: np.ndarray, w: np.ndarray) -> int:
    return int(np.count_nonzero(_bits(g) != _bits(w)))


def _first_diffs(g: np.ndarray, w: np.ndarray, limit: int = 5) -> list[str]:
    """'(sample, index...): engine x, reference y' for the first differing positions."""
    where = np.argwhere(_bits(g) != _bits(w))[:limit]
    return [f"{tuple(int(i) for i in p)}: engine {g[tuple(p)]}, reference {w[tuple(p)]}" for p in where]


# ---- bit-exactness ----


@pytest.mark.parametrize("key", _params())
def test_engine_matches_tflm(key):
    oracle = INDEX[key[4:]]["oracle"] if key.startswith("ops/") else "host-tflm"
    reference = run(MODELS[key], oracle, list(inputs(key))).outputs
    assert_same_bytes(engine_outputs(key), reference, f"{key}: engine vs {oracle}")


# ---- the generated sources compile warning-free ----


@pytest.fixture(scope="module")
def engine_dir(tmp_path_factory):
    """The `edgeq generate --format engine --name net` folder of each model, made once."""
    root = tmp_path_factory.mktemp("engines")
    folders: dict[str, Path] = {}

    def get(key: str) -> Path:
        if key not in folders:
            folders[key] = root / key.replace("/", "_")
            generate(MODELS[key], "engine", folders[key], name="net")
        return folders[key]

    return get


def _compile_all(compiler: str, flags: tuple[str, ...], folder: Path, done: dict) -> None:
    """``COMPILER FLAGS -c`` every .c file; a file already compiled with identical sources is not recompiled."""
    headers = b"".join(p.read_bytes() for p in sorted(folder.glob("*.h")))
    for source in sorted(folder.glob("*.c")):
        key = (compiler, flags, hashlib.sha256(source.read_bytes() + headers).hexdigest())
        if key not in done:
            cmd = [compiler, *flags, "-c", source.name, "-o", os.devnull]
            done[key] = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
        result = done[key]
        assert result.returncode == 0 and not result.stderr, f"{source.name}: {result.stderr}"


@pytest.fixture(scope="module")
def compiled() -> dict:
    return {}


@pytest.mark.parametrize("key", list(MODELS))
def test_engine_compiles_with_host_gcc(key, engine_dir, compiled):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("host gcc is not installed")
    _compile_all(gcc, STRICT, engine_dir(key), compiled)


@pytest.mark.parametrize("key", list(MODELS))
def test_engine_compiles_with_arm_gcc(key, engine_dir, compiled):
    arm = shutil.which("arm-none-eabi-gcc")
    if arm is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    _compile_all(arm, STRICT + ARM, engine_dir(key), compiled)


# ---- AddressSanitizer and UndefinedBehaviorSanitizer ----


@pytest.mark.parametrize("key", list(MODELS))
def test_engine_is_clean_under_sanitizers(key):
    if shutil.which(os.environ.get("CC", "gcc")) is None:
        pytest.skip("host gcc is not installed")
    from edgeq.model.io import model_outputs, split_samples
    from edgeq.targets.host_c import build_host_engine

    exe = build_host_engine(MODELS[key].read_bytes(), extra_flags=SANITIZE)
    xs = inputs(key)
    stream = b"".join(x[n].tobytes() for n in range(SAMPLES) for x in xs)
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0", "UBSAN_OPTIONS": "print_stacktrace=1"}
    done = subprocess.run([str(exe)], input=stream, capture_output=True, env=env, timeout=600)
    assert done.returncode == 0 and not done.stderr, done.stderr.decode(errors="replace")[-3000:]
    outputs = split_samples(done.stdout, model_outputs(_graph(key)), SAMPLES)
    assert_same_bytes(outputs, engine_outputs(key), f"{key}: sanitized vs plain engine")


# ---- ops the engine cannot run ----


@pytest.mark.parametrize("key", list(UNSUPPORTED))
def test_unsupported_op_names_op_and_index(key, tmp_path):
    model, pattern = UNSUPPORTED[key]
    with pytest.raises(UnsupportedError, match=pattern):
        generate(model, "engine", tmp_path / "engine", name="net")
    with pytest.raises(UnsupportedError, match=pattern):
        run(model, "host-c", [np.zeros((1, *t.shape[1:]), np.float32) for t in read_model(model).input_tensors])


def test_suite_index_matches_the_files():
    names = {p.stem for p in OPS.glob("*.tflite")}
    assert names == set(INDEX)
    for name, entry in INDEX.items():
        data = (OPS / f"{name}.tflite").read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
        assert [op.builtin for op in read_model(data).operators] == entry["ops"], name
    assert sum(entry["bytes"] for entry in INDEX.values()) < 1_500_000
