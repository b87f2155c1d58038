"""Run Coral's ``edgetpu_compiler`` and read its placement summary.

The compiler (Debian package ``edgetpu-compiler`` from Coral's apt repository,
x86-64 Linux only) writes ``<name>_edgetpu.tflite`` into ``--out_dir`` and, with
``--show_operations``, prints the operation log on stdout: a summary with
"Number of operations that will run on Edge TPU: X" and "... on CPU: Y" (when
some ops stay on the CPU) and a table "Operator  Count  Status".
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgeq import procs
from edgeq.errors import ConversionError, DependencyError

COMPILER = "edgetpu_compiler"
TIMEOUT_S = 600.0

_NUMBERS = {
    "edgetpu_ops": r"Number of operations that will run on Edge TPU:\s*(\d+)",
    "cpu_ops": r"Number of operations that will run on CPU:\s*(\d+)",
    "total_ops": r"Total number of operations:\s*(\d+)",
    "subgraphs": r"Number of Edge TPU subgraphs:\s*(\d+)",
}
_VERSION = re.compile(r"Edge TPU Compiler version\s+(\S+)")
_HEADER = re.compile(r"^\s*Operator\s+Count\s+Status\s*$")
_ROW = re.compile(r"^\s*(\S+)\s+(\d+)\s+(\S.*?)\s*$")
MAPPED = "Mapped to Edge TPU"


@dataclass(frozen=True)
class CompilerSummary:
    """What ``edgetpu_compiler`` reported about one model.

    Attributes:
        version: The compiler version, e.g. ``"16.0.384591198"`` (None when not printed).
        edgetpu_ops: Operations mapped to the Edge TPU (None when the output says nothing).
        cpu_ops: Operations left on the CPU.
        total_ops: Total number of operations.
        subgraphs: Number of Edge TPU subgraphs (segments) in the compiled model.
        rows: The operation log as ``(operator, count, status)``.
    """

    version: str | None = None
    edgetpu_ops: int | None = None
    cpu_ops: int | None = None
    total_ops: int | None = None
    subgraphs: int | None = None
    rows: tuple[tuple[str, int, str], ...] = ()

    def notes(self) -> tuple[str, ...]:
        """Lines for a profile's notes: the compiler's placement, in its own words."""
        version = f"edgetpu_compiler {self.version}" if self.version else "edgetpu_compiler"
        if self.edgetpu_ops is None:
            return (f"{version}: placement not reported",)
        return (
            f"{version}: Number of operations that will run on Edge TPU: {self.edgetpu_ops}",
            f"{version}: Number of operations that will run on CPU: {self.cpu_ops}",
        )


def parse_compiler_output(text: str) -> CompilerSummary:
    """Read the summary and operation table from ``edgetpu_compiler --show_operations`` output.

    When the compiler maps every operation it omits the two "will run on" lines;
    the counts then come from the table, or from "Total number of operations".
    """
    numbers = {key: _int(pattern, text) for key, pattern in _NUMBERS.items()}
    version = _VERSION.search(text)
    rows = _table_rows(text)
    if numbers["edgetpu_ops"] is None and rows:
        numbers["edgetpu_ops"] = sum(n for _, n, status in rows if status == MAPPED)
        numbers["cpu_ops"] = sum(n for _, n, status in rows if status != MAPPED)
    elif numbers["edgetpu_ops"] is None and numbers["total_ops"] is not None:
        numbers["edgetpu_ops"], numbers["cpu_ops"] = numbers["total_ops"], 0
    return CompilerSummary(version=version.group(1) if version else None, rows=rows, **numbers)


def find_compiler() -> str | None:
    """Path of ``edgetpu_compiler`` on PATH, or None."""
    return shutil.which(COMPILER)


def compile_model(model: bytes, compiler: str = COMPILER, timeout: float = TIMEOUT_S) -> tuple[bytes, CompilerSummary]:
    """Compile ``model`` for the Edge TPU in a temporary folder.

    Returns:
        The compiled model's bytes and the compiler's summary.

    Raises:
        DependencyError: The compiler is not installed.
        ConversionError: The compiler failed, timed out or wrote no model.
    """
    with tempfile.TemporaryDirectory(prefix="edgeq-edgetpu-") as tmp:
        source, out_dir = Path(tmp) / "model.tflite", Path(tmp) / "out"
        source.write_bytes(model)
        out_dir.mkdir()
        done = _run([compiler, "--show_operations", "--out_dir", str(out_dir), str(source)], timeout)
        compiled = out_dir / "model_edgetpu.tflite"
        if done.returncode != 0 or not compiled.exists():
            raise ConversionError(
                f"edgetpu_compiler failed (exit {done.returncode}): {_last_line(done)}; "
                "run `edgeq edgetpu-check MODEL` to see which operations it cannot map"
            )
        return compiled.read_bytes(), parse_compiler_output(done.stdout)


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return procs.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise DependencyError(
            f"{cmd[0]} not found; install edgetpu-compiler from Coral's apt repository (x86-64 Linux)"
        ) from None
    except subprocess.TimeoutExpired:
        raise ConversionError(f"edgetpu_compiler did not finish within {timeout:g} s") from None


def _table_rows(text: str) -> tuple[tuple[str, int, str], ...]:
    rows: list[tuple[str, int, str]] = []
    in_table = False
    for line in text.splitlines():
        if _HEADER.match(line):
            in_table = True
            continue
        match = _ROW.match(line) if in_table else None
        if match:
            rows.append((match.group(1), int(match.group(2)), match.group(3)))
        elif in_table and line.strip() and rows:
            in_table = False
    return tuple(rows)


def _int(pattern: str, text: str) -> int | None:
    match = re.search(pattern, text)
    return int(match.group(1)) if match else None


def _last_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
