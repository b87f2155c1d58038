"""The engine's RAM against TFLM's, and the kernel schedule behind it (``--optimize``, ``--ram-budget``).

The engine's arena (tensors and kernel scratch, planned offline) is compared with
what the tflite-micro interpreter needs for the same model on this host: the
smallest arena with which it allocates and invokes. Both come without QEMU. The
kernel variants that save RAM (CONV_2D with 1 column or none, FULLY_CONNECTED
reading its int8 input) are run end to end, byte for byte against TFLM.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from edgeq.batch_run import run
from edgeq.codegen.context import model_context
from edgeq.codegen.engine.analyze import analyze
from edgeq.codegen.engine.build import build_engine
from edgeq.codegen.engine.schedule import choose_schedule, plan_arena, tensor_floor, tflm_floor
from edgeq.codegen.engine.scratch import variants
from edgeq.errors import UsageError
from edgeq.model import read_model
from edgeq.model.io import model_outputs, sample_shape, split_samples
from edgeq.render import render
from tests.conftest import FIXTURES, run_cli

pytest.importorskip("tflite_micro")

FC4000 = FIXTURES / "ram" / "kws_fc4000.tflite"
ZOO = {p.parent.name: p for p in sorted((FIXTURES / "zoo").glob("*/int8.tflite"))}
OPS = FIXTURES / "ops"
INDEX: dict[str, dict] = json.loads((OPS / "index.json").read_text())


def _models() -> dict[str, Path]:
    """Every int8 model the engine tests compile that TFLM runs: the op suite, the zoo, tflite fixtures."""
    models = {
        f"ops/{n}": OPS / f"{n}.tflite"
        for n, e in sorted(INDEX.items())
        if e["supported"] and e["oracle"] == "host-tflm"
    }
    models.update({f"zoo/{n}": p for n, p in ZOO.items()})
    models.update({f"tflite/{p.stem}": p for p in sorted((FIXTURES / "tflite").glob("*int8*.tflite"))})
    models["ram/kws_fc4000"] = FC4000
    return models


MODELS = _models()


@cache
def _arena(path: Path, optimize: str = "balanced", ram_budget: int | None = None) -> int:
    graph = read_model(path)
    return build_engine(graph, model_context(graph, path, "net"), optimize, ram_budget).plan.arena_bytes


@cache
def _measured(path: Path):
    from edgeq.codegen.arena import measure_arena

    return measure_arena(path.read_bytes())


def _tflm(path: Path) -> int:
    """TFLM's arena on a 32-bit target with its reference kernels: the least of edgeq's TFLM figures."""
    return _measured(path).target.reference_bytes


def _tflm_reported(path: Path) -> int:
    """The TFLM arena edgeq reports (generate --format tflm, docs/benchmarks-engine.md), before its margin."""
    return _measured(path).measured_bytes


# ---- never more RAM than TFLM ----


@pytest.mark.parametrize("key", list(MODELS))
def test_engine_never_needs_more_ram_than_tflm(key):
    """Default (balanced) and --optimize ram arenas <= TFLM's on a 32-bit target with its reference kernels.

    TFLM keeps every tensor alive at once in its arena, so an engine arena within that floor is below TFLM's
    as it stands (test_tensor_floor_is_below_tflm checks the floor on real measurements). Any other model
    runs in the host interpreter with the engine's arena, plus what 32-bit pointers save TFLM
    (codegen.arena32), minus 16 bytes: that must not be enough.
    """
    from edgeq.codegen.arena import runs_with
    from edgeq.codegen.arena32 import pointer_savings

    path = MODELS[key]
    graph = read_model(path)
    balanced, ram = _arena(path), _arena(path, "ram")
    assert ram <= balanced
    if balanced > tensor_floor(graph):
        host = balanced + pointer_savings(graph)
        assert not runs_with(path, host - 16), f"{key}: TFLM runs in less than the engine's {balanced} bytes"


@pytest.mark.parametrize("name", [*ZOO, "kws_fc4000"])
def test_tensor_floor_is_below_tflm(name):
    path = ZOO.get(name, FC4000)
    graph = read_model(path)
    assert tensor_floor(graph) <= tflm_floor(graph) <= _tflm(path)


@pytest.mark.parametrize("name", ["kws_dscnn", "ic_resnet8", "vww_mobilenet", "ad_autoencoder"])
def test_mlperf_tiny_models_stay_within_070_of_tflm(name):
    """The four MLPerf Tiny models of the zoo need at most 0.70x the TFLM arena, on the host and on the target.

    The target figure is edgeq's 32-bit model of TFLM with CMSIS-NN (codegen.arena32), which
    docs/benchmarks-arena.md proves against real Cortex-M4 builds.
    """
    assert _arena(ZOO[name]) <= 0.70 * _tflm_reported(ZOO[name])
    assert _arena(ZOO[name]) <= 0.70 * _measured(ZOO[name]).target.cmsis_nn_bytes


def test_keyword_spotting_blocks_write_over_their_inputs():
    """KWS's depthwise-separable blocks share one buffer: below any plan that keeps input and output apart."""
    path = ZOO["kws_dscnn"]
    graph = read_model(path)
    engine = build_engine(graph, model_context(graph, path, "net"))
    (chain,) = [b for b in engine.plan.buffers if b.starts]
    assert {
        graph.operators[i].builtin
        for i in range(len(graph.operators))
        if graph.operators[i].outputs[0] in chain.tensors
    } >= {"CONV_2D", "DEPTHWISE_CONV_2D"}
    apart = build_engine(graph, model_context(graph, path, "net"), in_place=False).plan.arena_bytes
    assert engine.plan.arena_bytes < tensor_floor(graph) < apart


def test_a_4000_input_fc_reads_its_input_directly():
    """The reported case: an int16 column of 4,000 inputs (8,000 B) beside their 4,000 int8 bytes.

    Speed keeps the column (input + column + output: 4,000 + 8,000 + 16 bytes, above TFLM's arena);
    balanced and ram give the FC no scratch and need little more than half of TFLM's.
    """
    graph = read_model(FC4000)
    analysis = analyze(graph)
    fc = next(op for op in analysis.ops if op.builtin == "FULLY_CONNECTED")
    speed = choose_schedule(graph, analysis.ops, analysis.aliases, "speed")
    balanced = choose_schedule(graph, analysis.ops, analysis.aliases)
    assert speed.chosen[fc.index] == "column" and balanced.chosen[fc.index] == "direct"
    assert _arena(FC4000, "speed") == 4000 + 2 * 4000 + 16 > _tflm(FC4000)
    assert _arena(FC4000, "ram") <= _arena(FC4000) <= 0.6 * _tflm(FC4000)


# ---- the schedule ----


@pytest.mark.parametrize("name", [*ZOO, "kws_fc4000"])
def test_modes_trade_ram_for_speed(name):
    """ram <= balanced <= speed; speed runs every op's fastest variant, ram the smallest arena there is."""
    path = ZOO.get(name, FC4000)
    graph = read_model(path)
    analysis = analyze(graph)
    plans = {}
    for mode in ("speed", "balanced", "ram"):
        schedule = choose_schedule(graph, analysis.ops, analysis.aliases, mode)
        plans[mode] = plan_arena(graph, analysis.ops, analysis.aliases, schedule.chosen).arena_bytes
        assert plans[mode] == _arena(path, mode)
        if mode == "speed":
            assert all(k.kernel == variants(graph, op)[0] for k, op in _with_ops(schedule, analysis.ops))
    smallest = {op.index: variants(graph, op)[-1] for op in analysis.ops if variants(graph, op)}
    assert plans["ram"] == plan_arena(graph, analysis.ops, analysis.aliases, smallest).arena_bytes
    assert plans["ram"] <= plans["balanced"] <= plans["speed"]


def _with_ops(schedule, ops):
    by_index = {op.index: op for op in ops}
    return [(k, by_index[k.op]) for k in schedule.kernels]


def test_ram_budget_picks_the_fastest_schedule_that_fits():
    """A budget between the smallest and the fastest arena: within it, and faster than ram's schedule."""
    path = ZOO["ic_resnet8"]
    low, high = _arena(path, "ram"), _arena(path, "speed")
    budget = (low + high) // 2
    got = _arena(path, "speed", budget)
    assert low <= got <= budget < high
    assert _arena(path, "speed", low) == low
    graph = read_model(path)
    analysis = analyze(graph)
    fits = choose_schedule(graph, analysis.ops, analysis.aliases, "speed", budget)
    ram = choose_schedule(graph, analysis.ops, analysis.aliases, "ram")
    rank = {op.index: variants(graph, op) for op in analysis.ops}
    assert sum(rank[i].index(v) for i, v in fits.chosen.items()) < sum(rank[i].index(v) for i, v in ram.chosen.items())


def test_impossible_budget_names_the_smallest_arena():
    smallest = _arena(FC4000, "ram")
    with pytest.raises(UsageError, match=f"smallest arena this model can run in, {smallest:,} bytes"):
        _arena(FC4000, "balanced", smallest - 16)


def test_cli_options_and_json(tmp_path):
    out = run_cli("generate", str(FC4000), "--format", "engine", "-o", str(tmp_path / "a"), "--ram-budget", "100")
    assert out.exit_code == 2 and out.stderr.count("\n") == 1 and "--ram-budget" in out.stderr
    assert not (tmp_path / "a").exists()
    bad = run_cli("generate", str(FC4000), "--format", "carray", "-o", str(tmp_path / "b"), "--optimize", "ram")
    assert bad.exit_code == 2 and "--format engine" in bad.stderr
    done = run_cli("generate", str(FC4000), "--format", "engine", "-o", str(tmp_path / "c"), "--json")
    report = done.json()
    assert report["arena_bytes"] == _arena(FC4000) and report["schedule"]["optimize"] == "balanced"
    kernels = {k["builtin"]: k for k in report["schedule"]["kernels"]}
    assert kernels["FULLY_CONNECTED"]["kernel"] == "direct" and kernels["FULLY_CONNECTED"]["scratch_bytes"] == 0
    assert report["scratch_bytes"] == max(k["scratch_bytes"] for k in kernels.values())
    text = run_cli("generate", str(FC4000), "--format", "engine", "-o", str(tmp_path / "d"), "--optimize", "speed")
    assert "--optimize speed" in text.stdout and "FULLY_CONNECTED column x1" in text.stdout


# ---- the RAM-saving kernels, end to end ----

SAMPLES = 20
BIT_EXACT = {
    "ram/kws_fc4000": ("ram", "speed"),
    "zoo/ic_resnet8": ("ram",),  # CONV_2D+ADD without scratch
    "zoo/kws_dscnn": ("ram",),
    "ops/conv_k3_dil2_same_relu": ("ram",),
    "ops/conv_k5_s2_same": ("ram",),
    "ops/conv_k3_s2_same_per_tensor_sat": ("ram",),
    "ops/fc_b3_bias_relu6": ("ram",),
}


def _engine_exe(path: Path, optimize: str, folder: Path, in_place: bool | None = None) -> Path:
    graph = read_model(path)
    ctx = model_context(graph, path, "net")
    files = {
        **build_engine(graph, ctx, optimize, in_place=in_place).files,
        "net_host.c": render("engine/host_driver.c.j2", m=ctx),
    }
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    exe = folder / "engine"
    sources = sorted(str(p) for p in folder.glob("*.c"))
    subprocess.run(["gcc", "-std=c99", "-O1", "-Wall", "-Werror", "-o", str(exe), *sources], check=True)
    return exe


@pytest.mark.parametrize(("key", "optimize"), [(k, m) for k, modes in BIT_EXACT.items() for m in modes])
def test_ram_saving_kernels_match_tflm(key, optimize, tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("host gcc is not installed")
    path = MODELS[key]
    graph = read_model(path)
    if optimize == "ram":  # the variants under test are really in the engine
        analysis = analyze(graph)
        chosen = choose_schedule(graph, analysis.ops, analysis.aliases, "ram").chosen
        assert "direct" in chosen.values()
    _assert_host_engine_matches_tflm(path, _engine_exe(path, optimize, tmp_path / "e"), f"{key} --optimize {optimize}")


def _assert_host_engine_matches_tflm(path: Path, exe: Path, what: str) -> None:
    graph = read_model(path)
    rng = np.random.default_rng(7)
    xs = [rng.integers(-128, 128, (SAMPLES, *sample_shape(t.shape))).astype(np.int8) for t in graph.input_tensors]
    stream = b"".join(x[n].tobytes() for n in range(SAMPLES) for x in xs)
    done = subprocess.run([str(exe)], input=stream, capture_output=True)
    assert done.returncode == 0, done.stderr
    got = split_samples(done.stdout, model_outputs(graph), SAMPLES)
    want = run(path, "host-tflm", xs).outputs
    for g, w in zip(got, want, strict=True):
        assert g.tobytes() == np.asarray(w).tobytes(), f"{what}: differs from TFLM"


IN_PLACE = [n for n in sorted(INDEX) if n.startswith("inplace_")]


def _shared_buffers(path: Path, optimize: str) -> list:
    graph = read_model(path)
    plan = build_engine(graph, model_context(graph, path, "net"), optimize, in_place=True).plan
    return [b for b in plan.buffers if b.starts]


@pytest.mark.parametrize("optimize", ["speed", "ram"])
@pytest.mark.parametrize("name", IN_PLACE)
def test_ops_written_over_their_inputs_match_tflm(name, optimize, tmp_path):
    """Chains of convolutions forced to write over their inputs (every kernel variant, host build): TFLM's bytes."""
    if shutil.which("gcc") is None:
        pytest.skip("host gcc is not installed")
    path = OPS / f"{name}.tflite"
    (chain,) = _shared_buffers(path, optimize)
    assert len(chain.tensors) == 3  # the later two ops each wrote over the output of the one before
    exe = _engine_exe(path, optimize, tmp_path / "e", in_place=True)
    _assert_host_engine_matches_tflm(path, exe, f"{name} --optimize {optimize}, in place")


# ---- the same kernels' SIMD32 code on an emulated Cortex-M4 ----


def _m4_harness():
    import importlib.util

    script = FIXTURES.parent.parent / "scripts" / "count_m4_instructions.py"
    spec = importlib.util.spec_from_file_location("count_m4", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("key", "in_place"),
    [("ram/kws_fc4000", None), ("ops/conv_k3_dil2_same_relu", None), ("zoo/ic_resnet8", None)]
    + [(f"ops/{name}", True) for name in IN_PLACE],
)
def test_ram_schedule_on_cortex_m4_matches_tflm(key, in_place, tmp_path):
    """--optimize ram built for Cortex-M4 (SMLAD paths of the direct kernels; the in-place chains written
    over their inputs) on QEMU: TFLM's bytes."""
    m4 = _m4_harness()
    if m4.tools() is None:
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm")
    path = MODELS[key]
    graph = read_model(path)
    ctx = model_context(graph, path, "net")
    files = build_engine(graph, ctx, "ram", in_place=in_place).files
    inputs = m4.seeded_inputs(path, 3)
    files = {**files, "main.c": m4.main_source(inputs, len(graph.outputs)), "startup.c": m4.STARTUP}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "mps2.ld").write_text(m4.LINKER_SCRIPT)
    flags = ["-std=c99", "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-O2"]
    flags += ["--specs=rdimon.specs", "-nostartfiles", "-T", str(tmp_path / "mps2.ld")]
    elf = tmp_path / "engine.elf"
    sources = sorted(str(p) for p in tmp_path.glob("*.c"))
    subprocess.run(["arm-none-eabi-gcc", *flags, "-o", str(elf), *sources], check=True)
    got = m4.run_elf(elf)["outputs"]
    want = [np.ascontiguousarray(o) for o in run(path, "host-tflm", inputs).outputs]
    assert got == [o[s].tobytes() for s in range(3) for o in want], f"{key}: Cortex-M4 --optimize ram differs"
