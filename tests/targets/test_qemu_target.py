"""``edgeq run/profile --target qemu-m4|qemu-m7|qemu-m55``: real firmware on real QEMU boards, TFLM as the oracle.

Each model is generated, cross-compiled with arm-none-eabi-gcc (the M4 build
takes the DSP intrinsics path, the M55 build the Armv8.1-M one), started under
``qemu-system-arm -icount shift=0`` and driven over the UART's pty.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from edgeq.batch_run import run
from edgeq.boards import load_board
from edgeq.measurements import Cycles
from edgeq.model import read_model
from edgeq.model.analysis import inspect_model, op_macs
from edgeq.model.io import sample_shape
from edgeq.profiling import profile
from edgeq.targets.qemu import estimate_time
from tests.conftest import FIXTURES

for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/run setup installs it)", allow_module_level=True)
pytest.importorskip("tflite_micro", reason="tflite-micro is the reference")

ZOO = FIXTURES / "zoo"
# model -> samples per board (loading a 27 KB VWW input over the pty takes about 2 s)
MODELS = {
    FIXTURES / "tflite" / "conv_int8.tflite": 10,
    FIXTURES / "tflite" / "two_input_int8.tflite": 10,
    FIXTURES / "ops" / "float_io_conv.tflite": 5,
    ZOO / "kws_dscnn" / "int8.tflite": 6,
    ZOO / "ic_resnet8" / "int8.tflite": 4,
    ZOO / "vww_mobilenet" / "int8.tflite": 2,
    ZOO / "ad_autoencoder" / "int8.tflite": 6,
}


def _inputs(model, count: int) -> list[np.ndarray]:
    graph = read_model(model.read_bytes())
    rng = np.random.default_rng(42)
    out = []
    for t in graph.input_tensors:
        shape = sample_shape(t.shape)
        if t.dtype == "float32":
            out.append(rng.normal(0, 2, (count, *shape)).astype(np.float32))
        else:
            x = rng.integers(-128, 128, (count, *shape), dtype=np.int8)
            x[0] = 127  # saturating sample
            out.append(x)
    return out


@pytest.mark.parametrize("target", ["qemu-m4", "qemu-m55"])
@pytest.mark.parametrize("model", list(MODELS), ids=lambda p: p.parent.name + "/" + p.stem)
def test_emulated_board_matches_tflm_byte_for_byte(model, target):
    x = _inputs(model, MODELS[model])
    got = run(model, target, x).outputs
    want = run(model, "host-tflm", x).outputs
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        assert g.tobytes() == w.tobytes(), f"{np.count_nonzero(g != w)} values differ from TFLM on {target}"


def test_profile_counts_instructions_and_estimates_cycles_per_op(cli):
    model = ZOO / "ad_autoencoder" / "int8.tflite"
    first = profile(model, "qemu-m4", runs=4, warmup=1, op_times=True)
    second = profile(model, "qemu-m4", runs=4, warmup=0)
    t = first.timing
    assert t.instructions == second.timing.instructions > 100_000
    assert t.cycles is not None and t.cycles.kind == "estimated" and "cortex-m4.yaml" in t.cycles.source
    assert t.cycles.value == pytest.approx(second.timing.cycles.value, rel=1e-4)  # same code, any warm-up
    assert t.instructions < t.cycles.value < 3 * t.instructions  # M4: 1 cycle at least, loads take 2
    assert t.latency_kind == "estimated" and "estimated cycles" in t.latency_source
    assert first.latency.mean == pytest.approx(t.cycles.value / 120e6 * 1e3)  # NUCLEO-L4R5ZI at 120 MHz
    assert t.energy is not None and t.energy.kind == "estimated"
    assert t.memory.flash_bytes > model.stat().st_size // 2 and t.memory.ram_bytes > 0
    ops = first.op_times
    assert ops and [o.position for o in ops] == list(range(len(ops)))
    assert all(o.cycles >= o.instructions > 0 for o in ops)
    inside = sum(o.instructions for o in ops)
    assert 0.99 * t.instructions < inside <= t.instructions  # the call sequence and hooks are the rest
    graph = read_model(model)
    for o in ops:
        assert o.name == graph.operators[o.op_index].builtin
        assert o.macs == op_macs(graph, graph.operators[o.op_index])
        assert o.mean_us == pytest.approx(o.cycles / 120.0)
    assert sum(o.macs for o in ops) == inspect_model(model.read_bytes()).total_macs
    assert second.op_times is None  # only collected when asked for
    done = cli("profile", str(model), "--target", "qemu-m4", "--runs", "2", "--warmup", "0", "--ops", "--json")
    assert done.exit_code == 0, done.stderr
    report = done.json()
    assert report["cycles"]["kind"] == "estimated" and report["cycles"]["value"] > report["instructions"]
    # the same per op, up to a SysTick interrupt (once per emulated millisecond) landing in another op
    assert all(abs(o["instructions"] - p.instructions) < 64 for o, p in zip(report["ops"], ops, strict=True))
    text = cli("profile", str(model), "--target", "qemu-m4", "--runs", "2", "--warmup", "0", "--ops").stdout
    assert "MACs / cycle" in text and "FULLY_CONNECTED" in text and "cycles estimated:" in text


def test_m7_profile_reports_its_stand_in_board():
    result = profile(FIXTURES / "tflite" / "conv_int8.tflite", "qemu-m7", runs=2, warmup=0)
    assert "nucleo-h7a3zi-q" in result.timing.latency_source


def test_estimate_uses_cycles_or_cpi_and_the_real_board_clock():
    board = load_board("qemu-mps2-an386")
    est = estimate_time(board, 12_000_000.0)  # 12 ms of virtual time = 12 M instructions at shift 0
    assert est.instructions == 12_000_000
    assert est.latency_ms == pytest.approx(12e6 * board.qemu.cpi_assumption / 120e6 * 1e3)
    assert est.energy.value == pytest.approx(41.0 * est.latency_ms)
    cycles = estimate_time(board, 12_000_000.0, Cycles(18e6, "estimated", "model"))
    assert cycles.instructions == 12_000_000 and cycles.latency_ms == pytest.approx(18e6 / 120e6 * 1e3)
    assert "18,000,000 estimated cycles" in cycles.latency_source
    m55 = estimate_time(load_board("qemu-mps3-an547"), 1_000_000.0)
    assert m55.energy is None and "32 MHz" in m55.latency_source
