"""int4 weights in the compiled engine: packed in flash, unpacked into scratch, bit-exact with TFLM.

The fixtures (tests/fixtures/int4, scripts/make_int4_fixtures.py) come in pairs: NAME.tflite with int4
weights and NAME_w8.tflite with the same values stored as int8, which computes exactly the same outputs.
The int8 twin run by the tflite-micro interpreter is the oracle for every model; where that
interpreter runs the int4 model itself (its int4 CONV_2D and DEPTHWISE_CONV_2D kernels), the engine
must equal that too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from edgeq.batch_run import run
from edgeq.codegen.context import model_context
from edgeq.codegen.engine.analyze import analyze
from edgeq.codegen.engine.build import Engine, build_engine
from edgeq.codegen.engine.int4 import (
    fc_rows_scratch,
    has_int4_weights,
    output_channels,
    pack_words,
    packed_layout,
    unpacked_bytes,
    unpacked_weights_bytes,
)
from edgeq.codegen.engine.scratch import FC_ROWS, kernel_scratch_bytes
from edgeq.codegen.engine.sources import kernel_source
from edgeq.errors import EdgeqError, UnsupportedError, UsageError
from edgeq.model import read_model
from edgeq.model.io import sample_shape
from edgeq.render import render
from tests.conftest import FIXTURES, repack

pytest.importorskip("tflite_micro")

INT4 = FIXTURES / "int4"
NAMES = ("conv", "depthwise", "fc", "ds_cnn", "residual")
SAMPLES = 4


def _pair(name: str) -> tuple[Path, Path]:
    return INT4 / f"{name}.tflite", INT4 / f"{name}_w8.tflite"


@cache
def _inputs(name: str) -> tuple[np.ndarray, ...]:
    graph = read_model(_pair(name)[0])
    rng = np.random.default_rng(404)
    return tuple(
        rng.integers(-128, 128, (SAMPLES, *sample_shape(t.shape))).astype(np.int8) for t in graph.input_tensors
    )


@cache
def _oracle(name: str) -> tuple[bytes, ...]:
    """The int8 twin's outputs on the tflite-micro interpreter (they differ from sample to sample)."""
    outputs = [np.asarray(o) for o in run(_pair(name)[1], "host-tflm", list(_inputs(name))).outputs]
    assert len({o[k].tobytes() for o in outputs[:1] for k in range(SAMPLES)}) > 1, f"{name}: constant outputs"
    return tuple(o.tobytes() for o in outputs)


@cache
def _engine(path: Path, optimize: str = "balanced", ram_budget: int | None = None) -> Engine:
    graph = read_model(path)
    return build_engine(graph, model_context(graph, path, "net"), optimize, ram_budget)


def _outputs(path: Path, target: str, name: str) -> tuple[bytes, ...]:
    return tuple(np.asarray(o).tobytes() for o in run(path, target, list(_inputs(name))).outputs)


@pytest.mark.parametrize("name", NAMES)
def test_host_engine_matches_the_int8_twin_and_tflm(name):
    int4, w8 = _pair(name)
    got = _outputs(int4, "host-c", name)
    assert got == _oracle(name), f"{name}: the int4 engine differs from TFLM on the int8-stored weights"
    assert _outputs(w8, "host-c", name) == got
    try:
        tflm = _outputs(int4, "host-tflm", name)
    except EdgeqError as exc:  # this tflite-micro has no int4 FULLY_CONNECTED kernel
        assert any(op.builtin == "FULLY_CONNECTED" for op in read_model(int4).operators), exc
        assert "fully_connected" in str(exc).lower()
        return
    assert tflm == got, f"{name}: the int4 engine differs from TFLM's int4 kernels"


@pytest.mark.parametrize("name", ["ds_cnn", "residual", "conv", "fc"])
def test_cortex_m4_engine_matches_the_int8_twin(name):
    """The SIMD32 build of the unpack kernels and every int8 kernel over unpacked weights."""
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm (apt: gcc-arm-none-eabi qemu-system-arm)")
    assert _outputs(_pair(name)[0], "qemu-m4", name) == _oracle(name)


def test_weights_stay_packed_in_flash():
    for name in NAMES:
        int4, w8 = (_engine(p).constants for p in _pair(name))
        graph = read_model(_pair(name)[0])
        packed = sum(len(packed_layout(graph, op)[0]) for op in analyze(graph).ops if has_int4_weights(graph, op))
        assert int4.weights == packed
        assert (int4.biases, int4.channels) == (w8.biases, w8.channels)
        assert int4.weights < 0.56 * w8.weights  # half; a quarter for the int16 depthwise layout
        assert w8.per_channel == 16.0  # int32 bias, multiplier, shift and rounding constant
        assert int4.per_channel == 9.0  # int32 bias and multiplier, int8 shift (test_channel_... below)


def test_generation_report_shows_the_saving(tmp_path):
    from edgeq.codegen import generate

    int4, w8 = (generate(p, "engine", tmp_path / p.stem) for p in _pair("ds_cnn"))
    assert int4.constants is not None and w8.constants is not None
    saved = w8.constants["weights"] - int4.constants["weights"]
    assert saved > 1500
    assert int4.flash_bytes < w8.flash_bytes  # the unpacking code costs less than it saves here
    assert "edgeq_int4.c" in int4.files and "edgeq_int4.c" not in w8.files


@pytest.mark.parametrize("name", NAMES)
def test_unpacked_weights_count_in_the_arena(name):
    int4, w8 = _pair(name)
    graph = read_model(int4)
    engine = _engine(int4)
    by_index = {op.index: op for op in analyze(graph).ops}
    for k in engine.schedule.kernels:
        op = by_index[k.op]
        if k.kernel == FC_ROWS:  # fc's first op: its expanded channel rows leave no room for a whole copy
            assert k.scratch_bytes == fc_rows_scratch(graph, op) < unpacked_bytes(graph, op)
            continue
        assert k.scratch_bytes == unpacked_bytes(graph, op) + kernel_scratch_bytes(graph, op, k.kernel)
    rows = {k.op for k in engine.schedule.kernels if k.kernel == FC_ROWS}
    biggest = max(unpacked_bytes(graph, op) for i, op in by_index.items() if i not in rows)
    assert engine.schedule.smallest_arena_bytes >= _engine(w8).schedule.smallest_arena_bytes
    assert engine.plan.arena_bytes >= biggest


def test_ram_budget_counts_unpacked_weights():
    int4 = _pair("ds_cnn")[0]
    smallest = _engine(int4).schedule.smallest_arena_bytes
    assert _engine(int4, "balanced", smallest).plan.arena_bytes <= smallest
    with pytest.raises(UsageError, match=f"give --ram-budget {smallest} or more"):
        _engine(int4, "balanced", smallest - 1)


@pytest.mark.parametrize(("name", "optimize"), [("ds_cnn", "ram"), ("ds_cnn", "speed"), ("fc", "ram")])
def test_every_schedule_matches_the_oracle(name, optimize, tmp_path):
    """Host builds of other schedules; fc's smallest unpacks two FULLY_CONNECTED rows at a time."""
    if shutil.which("gcc") is None:
        pytest.skip("host gcc is not installed")
    path = _pair(name)[0]
    graph = read_model(path)
    ctx = model_context(graph, path, "net")
    engine = _engine(path, optimize)
    if name == "fc":
        assert set(engine.schedule.chosen.values()) == {FC_ROWS}
        assert engine.plan.arena_bytes < _engine(path).plan.arena_bytes
    files = {**engine.files, "net_host.c": render("engine/host_driver.c.j2", m=ctx)}
    for file, content in files.items():
        (tmp_path / file).write_bytes(content if isinstance(content, bytes) else content.encode())
    exe = tmp_path / "engine"
    sources = sorted(str(p) for p in tmp_path.glob("*.c"))
    subprocess.run(["gcc", "-std=c99", "-O1", "-Wall", "-Werror", "-o", str(exe), *sources], check=True)
    (x,) = _inputs(name)
    done = subprocess.run([str(exe)], input=b"".join(x[n].tobytes() for n in range(SAMPLES)), capture_output=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == _oracle(name)[0]


COMPACT = re.compile(r"static const (int32_t|int8_t) net_op(\d+)_channel_(bias|mult|shift)\[(\d+)\] = \{(.*?)\};", re.S)
ROWS = re.compile(r"static const eq_channel net_op(\d+)_channels\[(\d+)\] = \{(.*?)\};", re.S)
EXPAND = re.compile(r"eq_expand_channels\((.*?)\);", re.S)


def _numbers(text: str) -> list[int]:
    return [int(v) for v in re.findall(r"-?\d+", text)]


@pytest.mark.parametrize("name", NAMES)
def test_channel_parameters_take_9_bytes_a_channel_in_flash(name):
    """int32 bias, int32 multiplier, int8 shift per channel; no 16-byte eq_channel table in flash."""
    int4, w8 = (_engine(p) for p in _pair(name))
    code = str(int4.files["net.c"])
    arrays = COMPACT.findall(code)
    assert "static const eq_channel" not in code
    sizes = {(ctype, what): 0 for ctype, what in (("int32_t", "bias"), ("int32_t", "mult"), ("int8_t", "shift"))}
    for ctype, _, what, count, values in arrays:
        sizes[(ctype, what)] += int(count)
        assert len(_numbers(values)) == int(count)
    channels = w8.constants.channels
    assert set(sizes.values()) == {channels}, sizes
    assert int4.constants.biases + int4.constants.requant == 9 * channels
    assert int4.constants.requant == 5 * channels and int4.constants.biases == 4 * channels
    graph = read_model(_pair(name)[0])
    by_index = {op.index: op for op in analyze(graph).ops}
    for k in int4.schedule.kernels:  # the expanded rows follow the unpacked weights in the op's scratch
        op = by_index[k.op]
        rows = 16 * output_channels(graph, op)
        assert unpacked_bytes(graph, op) == unpacked_weights_bytes(graph, op) + rows
        if k.kernel != FC_ROWS:
            own = kernel_scratch_bytes(graph, op, k.kernel)
            assert k.scratch_bytes == unpacked_weights_bytes(graph, op) + rows + own


def test_expansion_equals_the_int8_twins_rows(tmp_path):
    """The generated arrays and eq_expand_channels calls give, row for row, the eq_channel tables of the twins."""
    if shutil.which("gcc") is None:
        pytest.skip("host gcc is not installed")
    decls, calls, expected = [], [], []
    for name in NAMES:
        int4, w8 = (str(_engine(p, "speed").files["net.c"]) for p in _pair(name))
        for ctype, op, what, count, values in COMPACT.findall(int4):
            decls.append(f"static const {ctype} {name}_op{op}_{what}[{count}] = {{{values}}};")
        for args in EXPAND.findall(int4):
            bias, _, _, count, rq, base, _ = (a.strip() for a in args.split(","))
            assert 0 < int(count) <= 256
            op = re.fullmatch(r"net_op(\d+)_channel_bias", bias).group(1)
            calls.append(
                f"    expand({name}_op{op}_bias, {name}_op{op}_mult, {name}_op{op}_shift, {count}, {rq}, {base});"
            )
        for _, _count, values in ROWS.findall(w8):
            expected.extend(_numbers(values))
    driver = "\n".join(
        [
            "#include <stdio.h>",
            '#include "edgeq_kernels.h"',
            *decls,
            "static void expand(const int32_t *b, const int32_t *m, const int8_t *s, int32_t n, int32_t rq, int32_t k) {",
            "    eq_channel rows[256];",
            "    int32_t c;",
            "    eq_expand_channels(b, m, s, n, rq, k, rows);",
            '    for (c = 0; c < n; ++c) printf("%ld %ld %ld %ld\\n", (long)rows[c].bias, (long)rows[c].mult,'
            " (long)rows[c].shift, (long)rows[c].round);",
            "}",
            "int main(void) {",
            *calls,
            "    return 0;",
            "}",
        ]
    )
    for file in ("edgeq_kernels.h", "edgeq_int4.c"):
        (tmp_path / file).write_bytes(kernel_source(file))
    (tmp_path / "driver.c").write_text(driver)
    exe = tmp_path / "expand"
    cmd = ["gcc", "-std=c99", "-O2", "-Wall", "-Werror", "-o", str(exe), str(tmp_path / "driver.c")]
    subprocess.run([*cmd, str(tmp_path / "edgeq_int4.c")], check=True)
    got = _numbers(subprocess.run([str(exe)], capture_output=True, check=True, text=True).stdout)
    assert len(expected) == 4 * sum(_engine(_pair(name)[1]).constants.channels for name in NAMES)
    assert got == expected


def test_rows_variant_scratch_matches_its_kernel(tmp_path):
    """fc_rows_scratch (two expanded channel rows, two unpacked rows of weights) is eq_fc_s4_scratch_bytes."""
    if shutil.which("gcc") is None:
        pytest.skip("host gcc is not installed")
    graph = read_model(_pair("fc")[0])
    fcs = [op for op in analyze(graph).ops if op.builtin == "FULLY_CONNECTED"]
    depths = [graph.tensors[op.inputs[1]].shape[-1] for op in fcs]
    files = (
        "edgeq_kernels.h",
        "edgeq_fc_int4.c",
        "edgeq_fc.c",
        "edgeq_int4.c",
        "edgeq_matmul.c",
        "edgeq_elementwise.c",
    )
    for file in (*files, "edgeq_requant.c"):
        (tmp_path / file).write_bytes(kernel_source(file))
    calls = "".join(f'    p.in_depth = {d};\n    printf("%ld\\n", (long)eq_fc_s4_scratch_bytes(&p));\n' for d in depths)
    driver = f'#include <stdio.h>\n#include "edgeq_kernels.h"\nint main(void) {{\n    eq_fc_params p;\n{calls}    return 0;\n}}\n'
    (tmp_path / "driver.c").write_text(driver)
    exe = tmp_path / "scratch"
    sources = sorted(str(path) for path in tmp_path.glob("*.c"))
    subprocess.run(["gcc", "-std=c99", "-O1", "-Wall", "-Werror", "-o", str(exe), *sources], check=True)
    got = _numbers(subprocess.run([str(exe)], capture_output=True, check=True, text=True).stdout)
    assert got == [fc_rows_scratch(graph, op) for op in fcs] == [32 + 2 * d + 16 for d in depths]


DRIVER = r"""
#include <stdio.h>
#include "edgeq_kernels.h"
int main(void) {
    uint8_t packed[64];
    int8_t out8[132];
    int16_t out16[132];
    int32_t count, i;
    if (fread(packed, 1, sizeof packed, stdin) != sizeof packed) return 1;
    for (count = 0; count <= 128; count += 8) {
        memset(out8, 0x55, sizeof out8);
        memset(out16, 0x55, sizeof out16);
        eq_unpack_s4_s8(packed, count, out8);
        eq_unpack_s4_s16(packed, count, out16);
        for (i = 0; i < count + 4; ++i) printf("%d %d ", out8[i], out16[i]);
        printf("\n");
    }
    return 0;
}
"""


def test_unpack_kernels_read_what_the_generator_packs(tmp_path):
    """Every whole number of packed words from 0 to 16, nothing written past ``count``."""
    if shutil.which("gcc") is None:
        pytest.skip("host gcc is not installed")
    for name in ("edgeq_kernels.h", "edgeq_int4.c"):
        (tmp_path / name).write_bytes(kernel_source(name))
    (tmp_path / "driver.c").write_text(DRIVER)
    exe = tmp_path / "unpack"
    cmd = ["gcc", "-std=c99", "-O2", "-Wall", "-Werror", "-o", str(exe), str(tmp_path / "driver.c")]
    subprocess.run([*cmd, str(tmp_path / "edgeq_int4.c")], check=True)
    values = np.random.default_rng(4).integers(-8, 8, 128).astype(np.int8)
    packed = pack_words(values)
    assert len(packed) == 64 and packed[0] == (values[0] & 0xF) | ((values[4] & 0xF) << 4)
    lines = subprocess.run([str(exe)], input=packed, capture_output=True, check=True).stdout.decode().splitlines()
    for line, count in zip(lines, range(0, 129, 8), strict=True):
        got = np.array(line.split(), np.int64).reshape(-1, 2)
        assert got[:, 0].tolist() == [*values[:count].tolist(), *[0x55] * 4], count
        assert got[:, 1].tolist() == [*values[:count].tolist(), *[0x5555] * 4], count


def test_other_sub_byte_weights_are_refused():
    from ai_edge_litert import schema_py_generated as fbs

    def to_uint4(model) -> None:
        for tensor in model.subgraphs[0].tensors:
            if tensor.type == fbs.TensorType.INT4:
                tensor.type = fbs.TensorType.UINT4

    path = _pair("conv")[0]
    graph = read_model(repack(path.read_bytes(), to_uint4))
    with pytest.raises(UnsupportedError, match=r"uint4 .* runs int4 weights on CONV_2D"):
        build_engine(graph, model_context(graph, path, "net"))
