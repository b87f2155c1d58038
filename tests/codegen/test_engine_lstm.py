"""UNIDIRECTIONAL_SEQUENCE_LSTM in the compiled engine, beyond the suite's bit-exactness (tests/codegen/test_engine.py).

- The hidden and cell states carry over from one inference to the next, in the
  engine as in tflite-micro: the same window twice gives two different outputs,
  the same bytes in both.
- LSTM variants the engine has no kernel for, and operands that contradict each
  other, are one-line errors naming the op, its index and what to change.
- The generated C with its state arrays and weight tables is clang-formatted.
- The Cortex-M4 firmware (SMLAD on int16 lanes, zero-padded weight rows; the
  host build runs the portable C loop) gives tflite-micro's bytes too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgeq.batch_run import run
from edgeq.codegen import generate
from edgeq.errors import ModelFormatError, UnsupportedError
from edgeq.model import read_model
from tests.conftest import FIXTURES, repack

pytest.importorskip("tflite_micro")

ROOT = Path(__file__).resolve().parents[2]
LAST = FIXTURES / "ops" / "lstm_t10_f4_u12_last.tflite"  # LSTM + STRIDED_SLICE of the last step
SEQ = FIXTURES / "ops" / "lstm_t16_f6_u16_seq.tflite"


def _lstm_index(model) -> int:
    codes = [model.operatorCodes[op.opcodeIndex].builtinCode for op in model.subgraphs[0].operators]
    return codes.index(44)  # BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM


def _edited(path: Path, edit) -> bytes:
    def apply(model):
        edit(model.subgraphs[0], model.subgraphs[0].operators[_lstm_index(model)])

    return repack(path.read_bytes(), apply)


def test_state_carries_over_between_inferences_as_in_tflm():
    x = np.random.default_rng(7).integers(-128, 128, (1, 10, 4)).astype(np.int8)
    window = np.repeat(x, 3, axis=0)  # the same window three times in a row
    engine = run(LAST, "host-c", [window]).outputs[0]
    tflm = run(LAST, "host-tflm", [window]).outputs[0]
    assert engine.tobytes() == tflm.tobytes()
    assert engine[0].tobytes() != engine[1].tobytes(), "the second inference should start from the first's state"


def _drop(*positions: int):
    def edit(subgraph, op) -> None:
        inputs = list(op.inputs)
        for k in positions:
            inputs[k] = -1
        op.inputs = inputs

    return edit


def _peephole(subgraph, op) -> None:
    inputs = list(op.inputs)
    inputs[9] = inputs[12]  # any [units] tensor where the peephole weights go
    op.inputs = inputs


def _batch2(subgraph, op) -> None:
    for k in (op.inputs[0], op.outputs[0]):
        t = subgraph.tensors[k]
        t.shape = np.array([2, *t.shape[1:]], np.int32)
        t.shapeSignature = None


def _bad_output(subgraph, op) -> None:
    t = subgraph.tensors[op.outputs[0]]
    t.shape = np.array([1, 16, 15], np.int32)  # 16 steps of 16 units
    t.shapeSignature = None


def _hidden_zero_point(subgraph, op) -> None:
    subgraph.tensors[op.inputs[18]].quantization.zeroPoint = np.array([300], np.int64)


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (_drop(1, 5), UnsupportedError, r"op 0 UNIDIRECTIONAL_SEQUENCE_LSTM: an LSTM without an input gate \(CIFG\)"),
        (_peephole, UnsupportedError, r"op 0 UNIDIRECTIONAL_SEQUENCE_LSTM: an LSTM with peephole connections"),
        (_batch2, UnsupportedError, r"op 0 UNIDIRECTIONAL_SEQUENCE_LSTM: batch 2 is not supported"),
        (_bad_output, ModelFormatError, r"op 0 UNIDIRECTIONAL_SEQUENCE_LSTM: its output .* \[1, 16, 16\]"),
        (_hidden_zero_point, ModelFormatError, r"its hidden state .* has zero point 300, outside \[-128, 127\]"),
    ],
    ids=["cifg", "peephole", "batch2", "output_shape", "hidden_zero_point"],
)
def test_lstm_the_engine_cannot_run_is_one_line(edit, error, message, tmp_path):
    model = tmp_path / "edited.tflite"
    model.write_bytes(_edited(SEQ, edit))
    with pytest.raises(error, match=message) as info:
        generate(model, "engine", tmp_path / "engine", name="net")
    assert "\n" not in str(info.value)


def test_generated_lstm_engine_is_clang_formatted(tmp_path):
    exe = shutil.which("clang-format")
    if exe is None:
        pytest.skip("clang-format is not installed (apt-get install clang-format; in scripts/apt-packages.txt)")
    generate(LAST, "engine", tmp_path, name="net")
    shutil.copy(ROOT / ".clang-format", tmp_path / ".clang-format")
    source = (tmp_path / "net.c").read_text()
    assert "static int16_t net_op0_cell[12] EQ_ALIGN16;" in source  # the state lives outside the arena
    formatted = subprocess.run(
        [exe, "--style=file", str(tmp_path / "net.c")], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert formatted == source
    assert max(len(line) for line in source.splitlines()) <= 120


@pytest.mark.parametrize("name", ["lstm_t8_f3_u8_seq_sat", "lstm_t16_f6_u16_seq"])
def test_cortex_m4_lstm_matches_tflm(name):
    """The firmware on the emulated Cortex-M4, window after window (no warm-up: it would advance the state)."""
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm (apt: gcc-arm-none-eabi qemu-system-arm)")
    pytest.importorskip("serial", reason="pyserial is not installed")
    model = FIXTURES / "ops" / f"{name}.tflite"
    graph = read_model(model)
    shape = graph.tensors[graph.inputs[0]].shape
    batch = np.random.default_rng(3).integers(-128, 128, (4, *shape[1:])).astype(np.int8)
    board = run(model, "qemu-m4", [batch]).outputs[0]
    tflm = run(model, "host-tflm", [batch]).outputs[0]
    assert board.tobytes() == tflm.tobytes()


def test_tflm_project_registers_the_lstm_kernel(tmp_path):
    generate(LAST, "tflm", tmp_path, name="net")
    ops_header = (tmp_path / "net_ops.h").read_text()
    assert "AddUnidirectionalSequenceLSTM()" in ops_header and "AddStridedSlice()" in ops_header


def test_suite_lstm_models_hold_the_fused_op():
    for path in (LAST, SEQ):
        ops = [op.builtin for op in read_model(path).operators]
        assert ops[0] == "UNIDIRECTIONAL_SEQUENCE_LSTM", ops


def test_lstm_state_counts_in_the_engines_ram(tmp_path):
    """The state and gate arrays outside the arena are reported, and the board check adds them to the arena."""
    report = generate(LAST, "engine", tmp_path, name="net", board="nucleo-l4r5zi")
    source = (tmp_path / "net.c").read_text()
    sizes = {"int8_t": 1, "int16_t": 2}
    statics = re.findall(r"static (int8_t|int16_t) net_op\d+_\w+\[(\d+)\]", source)
    assert statics and report.static_ram_bytes == sum(sizes[t] * int(n) for t, n in statics)
    check = report.board_check
    assert check is not None and check["ram_how"].startswith(f"arena {report.arena_bytes:,} + LSTM state")
    if check["covers"] == "engine":
        assert check["ram_bytes"] == report.arena_bytes + report.static_ram_bytes
