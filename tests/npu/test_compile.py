"""compile_model with the real Vela: placement, memory, the estimate and its arithmetic, configurations, errors."""

from __future__ import annotations

import pytest

from edgeq.errors import ConversionError, DependencyError, ModelFormatError, UsageError
from edgeq.model.analysis import inspect_model
from edgeq.npu import ACCELERATORS, compile_model, memory_modes, system_configs
from edgeq.npu.config import NpuConfig, resolve, vela_ini
from edgeq.npu.vela import parse_rejections, run_vela
from tests.npu.conftest import GATHER, KWS, KWS_FLOAT, SQRT

pytest.importorskip("ethosu.vela", reason="Arm's Vela is not installed (pip install 'edgeq[npu]')")

# Vela's names for the ops edgeq inspect counts MACs of (its per-layer "Original Operator")
MAC_OPS = ("Conv2D", "DepthwiseConv2D", "FullyConnected")


def test_kws_on_the_u55_128_is_all_on_the_npu_with_plausible_figures(compiled):
    c = compiled(KWS, "ethos-u55-128")
    assert (c.system_config, c.memory_mode, c.npu_clock_hz) == ("Ethos_U55_High_End_Embedded", "Shared_Sram", 500e6)
    assert [op.placement for op in c.ops] == ["npu"] * 16 and all(op.reason is None for op in c.ops)
    assert c.sram_bytes > 0 and c.flash_bytes > 0 and c.flash_area == "Off-chip Flash"
    assert c.npu_cycles > 0 and c.latency_s == pytest.approx(c.npu_cycles / c.npu_clock_hz, rel=1e-12)
    assert c.macs_per_cycle == pytest.approx(c.macs / c.npu_cycles)
    assert set(c.bandwidth) == {"SRAM", "Off-chip Flash"} and all(v > 0 for v in c.bandwidth.values())
    assert c.compiled[4:8] == b"TFL3" and b"ethos-u" in c.compiled
    # the SHAPE/STRIDED_SLICE/PACK Vela warned about were folded away, and the report says so
    assert len(c.notes) == 3 and all("did not keep it on the CPU" in n for n in c.notes)


def test_kws_macs_are_edgeqs_count_plus_what_vela_also_counts(compiled):
    """Vela counts convolution and dense MACs as edgeq inspect does; it also counts pooling windows and copies."""
    c = compiled(KWS, "ethos-u55-128")
    total = inspect_model(KWS.read_bytes()).total_macs
    assert sum(c.macs_by_op.get(name, 0) for name in MAC_OPS) == total == 2_656_768
    assert c.macs == sum(c.macs_by_op.values())
    assert c.macs_by_op["AvgPool"] == 25 * 5 * 64  # a 25x5 window over 64 channels, one MAC per tap


def test_sqrt_stays_on_the_cpu_with_vela_reason_and_splits_the_npu_work(compiled):
    c = compiled(SQRT, "ethos-u55-128")
    assert [(op.op, op.placement) for op in c.ops] == [
        ("FULLY_CONNECTED", "npu"),
        ("ADD", "npu"),
        ("SQRT", "cpu"),
        ("FULLY_CONNECTED", "npu"),
    ]
    (sqrt,) = c.cpu_ops
    assert sqrt.reason and "Ethos-U55" in sqrt.reason and "Unsupported opType" in sqrt.reason
    assert "\n" not in sqrt.reason
    from edgeq.model import read_model

    names = [op.name for op in read_model(c.compiled).operators]
    assert names == ["ethos-u", "SQRT", "ethos-u"]
    report = c.to_dict()
    assert report["cpu_ops"] == 1 and report["estimated"] is True and "not measurements" in report["estimate_note"]


def test_gather_is_on_the_cpu_of_the_u55_with_a_reason(compiled):
    c = compiled(GATHER, "ethos-u55-64")
    assert [op.op for op in c.cpu_ops] == ["GATHER"] and c.npu_count == 2


def test_configurations_give_different_cycle_counts(compiled):
    cycles = {a: compiled(KWS, a).npu_cycles for a in ("ethos-u55-128", "ethos-u55-256", "ethos-u65-256")}
    assert len(set(cycles.values())) == 3, cycles
    assert cycles["ethos-u55-256"] < cycles["ethos-u55-128"]  # twice the MACs per cycle, same system


def test_a_named_system_config_and_memory_mode_are_used(compiled):
    c = compiled(KWS, "ethos-u55-128", system_config="Ethos_U55_Deep_Embedded", memory_mode="Sram_Only")
    assert (c.system_config, c.memory_mode, c.npu_clock_hz) == ("Ethos_U55_Deep_Embedded", "Sram_Only", 200e6)
    assert c.flash_area == "On-chip Flash"
    assert c.latency_s == pytest.approx(c.npu_cycles / 200e6)


def test_configurations_come_from_vela_ini_per_npu_family():
    assert len(ACCELERATORS) == 11
    assert system_configs("ethos-u55-32") == ("Ethos_U55_Deep_Embedded", "Ethos_U55_High_End_Embedded")
    assert all(s.startswith("Ethos_U65_") for s in system_configs("ethos-u65-512"))
    assert "Dedicated_Sram" not in memory_modes("ethos-u55-128") and "Dedicated_Sram" in memory_modes("ethos-u65-256")
    assert resolve("ethos-u85-256").system_config == "Ethos_U85_SYS_DRAM_Mid"


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"accelerator": "ethos-u55-100"}, r"unknown Ethos-U accelerator 'ethos-u55-100'; accelerators: ethos-u55-32,"),
        ({"system_config": "Ethos_U65_High_End"}, r"for ethos-u55-128; Vela's vela.ini has: Ethos_U55_Deep_Embedded"),
        ({"memory_mode": "Dedicated_Sram"}, r"unknown memory mode 'Dedicated_Sram' for ethos-u55-128; .*Shared_Sram"),
    ],
)
def test_bad_configurations_are_one_line_usage_errors(kwargs, pattern):
    args = {"accelerator": "ethos-u55-128", **kwargs}
    with pytest.raises(UsageError, match=pattern) as info:
        compile_model(KWS.read_bytes(), args.pop("accelerator"), **args)
    assert "\n" not in str(info.value)


def test_a_float_model_is_refused_before_vela_runs():
    with pytest.raises(UsageError, match=r"^float.tflite is a float model; .*convert it with edgeq convert first$"):
        compile_model(KWS_FLOAT.read_bytes(), "ethos-u55-128", name="float.tflite")


def test_a_corrupt_model_is_the_readers_error():
    with pytest.raises(ModelFormatError, match="not a TFLite model"):
        compile_model(b"not a model at all, just bytes", "ethos-u55-128")


def test_vela_missing_names_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ethosu.vela" else real(name, *a))
    with pytest.raises(DependencyError, match=r"pip install 'edgeq\[npu\]'"):
        compile_model(KWS.read_bytes(), "ethos-u55-128")


def test_vela_warning_blocks_are_parsed_with_their_explanation():
    text = (
        "Warning (supported operators) operator: PACK, ofm: 'a/b'\n"
        "Reason: Operation has shapeless tensor\nTensors must have constant shape.\n\n"
        "Warning (supported operators) operator: SQRT, ofm: 'Sqrt'\nReason: Unsupported opType\n\nNetwork summary\n"
    )
    found = parse_rejections(text)
    assert [(r.op, r.ofm, r.reason, r.detail) for r in found] == [
        ("PACK", "a/b", "Operation has shapeless tensor", "Tensors must have constant shape."),
        ("SQRT", "Sqrt", "Unsupported opType", ""),
    ]


def test_vela_failing_is_its_last_error_line():
    """A configuration Vela itself refuses (past edgeq's checks): the error is Vela's last line, on one line."""
    config = NpuConfig("ethos-u55-128", "No_Such_System", "Shared_Sram", 500_000_000, vela_ini())
    with pytest.raises(ConversionError, match=r"^Vela failed for ethos-u55-128 \(exit 1\): .*No_Such_System") as info:
        run_vela(SQRT.read_bytes(), config)
    assert "\n" not in str(info.value)
