"""edgeq.cli.views: the terminal text of the commands, from the data the library returns."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from edgeq.cli.views.edgetpu import render_report, summary_lines
from edgeq.cli.views.firmware import render_build, render_flashed
from edgeq.cli.views.generate import render_generation
from edgeq.cli.views.inspect import render_model
from edgeq.cli.views.run import render_run
from edgeq.codegen.report import GenerationReport
from edgeq.edgetpu import check_model
from edgeq.model.analysis import inspect_model
from tests.edgetpu.models import CONV_INT8, replace_opcode

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tflite"


def test_inspect_report():
    text = render_model(inspect_model(FIXTURES / "conv_int8.tflite"))
    for needle in ("conv_int8.tflite", "sha256 a2ba", "CONV_2D", "DEPTHWISE_CONV_2D", "SOFTMAX"):
        assert needle in text
    assert "total MACs     73,328" in text
    assert "float ops      none" in text
    assert "scale 0.00784277  zp -1" in text


def test_inspect_lists_float_ops():
    text = render_model(inspect_model(FIXTURES / "conv_float.tflite"))
    assert "float ops      6: 0 CONV_2D, 1 DEPTHWISE_CONV_2D" in text


def test_edgetpu_summary_lines_wording():
    report = check_model(replace_opcode(CONV_INT8.read_bytes(), "MAX_POOL_2D", "HARD_SWISH"))
    assert summary_lines(report) == [
        "Number of operations that will run on Edge TPU: 2",
        "Number of operations that will run on CPU: 4",
    ]
    text = render_report(report)
    assert "Number of operations that will run on Edge TPU: 2\nNumber of operations that will run on CPU: 4" in text
    assert "Operator" in text and "Count" in text and "Status" in text
    assert re.search(r"^HARD_SWISH +1  Operation not supported$", text, re.M)
    assert re.search(r"^RESHAPE +1  More than one subgraph is not supported$", text, re.M)


def test_generation_engine_with_board_check():
    report = GenerationReport(
        "engine", "m", "m.tflite", "/o", ("e.c",), 5000, 3000, None, "planned", ("ADD",), board="b",
        arena_lower_bound_bytes=2500, flash_how="weights + code",
        board_check={"board": "b", "covers": "firmware", "flash_limit": None, "flash_bytes": 1000,
                     "ram_limit": 4096, "ram_bytes": 3000, "not_counted": "stack"},
    )  # fmt: skip
    assert render_generation(report) == (
        "/o: engine for m.tflite (name m)\n"
        "  flash 5,000 bytes (weights + code)\n"
        "  tensor arena 3,000 bytes (RAM, planned; lower bound 2,500)\n"
        "  ops: ADD\n"
        "  b (firmware): flash 1,000 / ? B, RAM 3,000 / 4,096 B; not counted: stack\n"
        "  files: e.c"
    )


def test_generation_carray_that_does_not_fit():
    report = GenerationReport(
        "tflm", "m", "m.tflite", "/o", ("a.cc",), 12345, 20000, 18000, "measured", ("CONV_2D",), ("AddConv2D",),
        "nucleo", ("RAM too small",),
    )  # fmt: skip
    lines = render_generation(report).splitlines()
    assert lines[1:3] == [
        "  model array 12,345 bytes (flash)",
        "  tensor arena 20,000 bytes (RAM; 18,000 modeled for a 32-bit target from the host measurement + margin)",
    ]
    assert "  does not fit nucleo: RAM too small" in lines


def test_run_summary_with_and_without_a_score():
    summary = {"target": "host", "model": "m.tflite", "samples": 2, "output": "o.npy", "output_shapes": [[2, 3]]}
    assert render_run(summary) == "2 samples through m.tflite on host -> o.npy [[2, 3]]"
    scored = render_run(dict(summary, metric="top1_accuracy", value=0.8, files=5))
    assert scored.splitlines()[1] == "top1 accuracy: 0.8000 over 5 files"


def test_firmware_build_and_flash():
    result = SimpleNamespace(
        elf="/f/fw.elf", board="mps2", text=1000, data=20, bss=3000, flash_bytes=1020, flash_limit=4096,
        ram_bytes=3020, ram_limit=8192, rodata_region=None,
    )  # fmt: skip
    assert render_build(result).splitlines()[2:] == [
        "  flash 1,020 / 4,096 B (24.9 %)",
        "  RAM   3,020 / 8,192 B (36.9 %)",
    ]
    assert render_flashed("rpi-pico", ["picotool", "load", "x.uf2"]) == "flashed rpi-pico with: picotool load x.uf2"
