"""Parsing ``edgetpu_compiler`` output, and running a stand-in compiler script (no Coral software here)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from edgeq.edgetpu.compiler import CompilerSummary, compile_model, parse_compiler_output
from edgeq.errors import ConversionError, DependencyError

# Hand-written sample, NOT captured from a real run: laid out as the compiler's
# --show_operations output appears in public google-coral/edgetpu issue logs,
# with made-up sizes and counts.
SAMPLE_PARTIAL = """\
Edge TPU Compiler version 16.0.384591198
Started a compilation timeout timer of 180 seconds.

Model compiled successfully in 412 ms.

Input model: model.tflite
Input size: 241.55KiB
Output model: out/model_edgetpu.tflite
Output size: 312.20KiB
On-chip memory used for caching model parameters: 228.00KiB
On-chip memory remaining for caching model parameters: 7.66MiB
Off-chip memory used for streaming uncached model parameters: 0.00B
Number of Edge TPU subgraphs: 1
Total number of operations: 34
Operation log: out/model_edgetpu.log

Model successfully compiled but not all operations are supported by the Edge TPU. A percentage of the model will \
instead run on the CPU, which is slower. If possible, consider updating your model to use only operations supported \
by the Edge TPU. For details, visit g.co/coral/model-reqs.
Number of operations that will run on Edge TPU: 28
Number of operations that will run on CPU: 6

Operator                       Count      Status

CONV_2D                        14         Mapped to Edge TPU
DEPTHWISE_CONV_2D              13         Mapped to Edge TPU
AVERAGE_POOL_2D                1          Mapped to Edge TPU
SHAPE                          1          Operation is working on an unsupported data type
STRIDED_SLICE                  1          Operation is working on an unsupported data type
PACK                           1          Operation is working on an unsupported data type
RESHAPE                        1          Operation is working on an unsupported data type
FULLY_CONNECTED                1          More than one subgraph is not supported
SOFTMAX                        1          More than one subgraph is not supported
Compilation child process completed within timeout period.
Compilation succeeded!
"""

# Hand-written sample of a fully mapped model: the compiler then omits the two "will run on" lines.
SAMPLE_FULL = """\
Edge TPU Compiler version 16.0.384591198

Model compiled successfully in 120 ms.

Input model: model.tflite
Output model: out/model_edgetpu.tflite
Number of Edge TPU subgraphs: 1
Total number of operations: 6
Operation log: out/model_edgetpu.log
See the operation log file for individual operation details.
"""


def test_parse_partial_placement():
    summary = parse_compiler_output(SAMPLE_PARTIAL)
    assert summary.version == "16.0.384591198"
    assert (summary.edgetpu_ops, summary.cpu_ops, summary.total_ops, summary.subgraphs) == (28, 6, 34, 1)
    assert len(summary.rows) == 9
    assert summary.rows[0] == ("CONV_2D", 14, "Mapped to Edge TPU")
    assert summary.rows[-1] == ("SOFTMAX", 1, "More than one subgraph is not supported")
    assert summary.notes() == (
        "edgetpu_compiler 16.0.384591198: Number of operations that will run on Edge TPU: 28",
        "edgetpu_compiler 16.0.384591198: Number of operations that will run on CPU: 6",
    )


def test_parse_full_placement_without_summary_lines():
    summary = parse_compiler_output(SAMPLE_FULL)
    assert (summary.edgetpu_ops, summary.cpu_ops, summary.total_ops) == (6, 0, 6)
    assert summary.rows == ()


def test_counts_from_the_table_when_summary_lines_are_missing():
    table_only = SAMPLE_PARTIAL.replace("Number of operations that will run on", "(removed)")
    table_only = table_only.replace("Total number of operations: 34", "")
    summary = parse_compiler_output(table_only)
    assert (summary.edgetpu_ops, summary.cpu_ops) == (28, 6)


def test_parse_nothing():
    assert parse_compiler_output("") == CompilerSummary()
    assert CompilerSummary().notes() == ("edgetpu_compiler: placement not reported",)


def fake_compiler(folder: Path, stdout: str, exit_code: int = 0) -> str:
    """An executable standing in for edgetpu_compiler: copies the model to --out_dir and prints ``stdout``."""
    script = folder / "edgetpu_compiler"
    script.write_text(
        f"#!{sys.executable}\n"
        "import shutil, sys\n"
        "args = sys.argv[1:]\n"
        "out = args[args.index('--out_dir') + 1]\n"
        f"if {exit_code} == 0:\n"
        "    shutil.copy(args[-1], out + '/model_edgetpu.tflite')\n"
        f"sys.stdout.write({stdout!r})\n"
        f"sys.exit({exit_code})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_compile_model_with_a_stand_in_compiler(tmp_path, conv_int8):
    compiled, summary = compile_model(conv_int8, compiler=fake_compiler(tmp_path, SAMPLE_FULL))
    assert compiled == conv_int8
    assert summary.edgetpu_ops == 6


def test_compiler_failure_is_one_line(tmp_path, conv_int8):
    script = fake_compiler(tmp_path, "Edge TPU Compiler version 16.0.384591198\nCompilation failed!\n", exit_code=1)
    with pytest.raises(ConversionError) as info:
        compile_model(conv_int8, compiler=script)
    message = str(info.value)
    assert "\n" not in message
    assert "exit 1" in message and "Compilation failed!" in message and "edgeq edgetpu-check" in message


def test_missing_compiler(conv_int8, tmp_path):
    with pytest.raises(DependencyError, match="edgetpu-compiler"):
        compile_model(conv_int8, compiler=os.fspath(tmp_path / "no-such-compiler"))
