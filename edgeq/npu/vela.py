"""Run Arm's Vela as a child process and read what it writes.

Vela (``python -m ethosu.vela``, the ``ethos-u-vela`` package) compiles
``model.tflite`` into ``--output-dir``: ``model_vela.tflite`` (the NPU's ops
replaced by ``ethos-u`` custom ops, the CPU's ops left as they were),
``model_summary_<system config>.csv`` (one row: memory used, bytes moved per
memory area, MACs, cycles and the estimated inference time) and, with
``--verbose-performance``, ``model_per-layer.csv`` (its estimate per NPU
operation). On stdout it names every op it rejects, as a block::

    Warning (supported operators) operator: SQRT, ofm: 'Sqrt'
    Reason: Unsupported opType

followed by lines that explain the constraint, then a blank line.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgeq import procs
from edgeq.errors import ConversionError
from edgeq.npu.config import NpuConfig
from edgeq.tempdirs import process_tempdir

TIMEOUT_S = 600.0
KIB = 1024
# memory area -> (summary column of its bytes per inference, of its memory used in KiB)
AREAS = {
    "SRAM": ("sram_total_bytes", "sram_memory_used"),
    "DRAM": ("dram_total_bytes", "dram_memory_used"),
    "On-chip Flash": ("on_chip_flash_total_bytes", "on_chip_flash_memory_used"),
    "Off-chip Flash": ("off_chip_flash_total_bytes", "off_chip_flash_memory_used"),
}
_WARNING = re.compile(
    r"^Warning \(supported operators\) operator: (?P<op>[^,]+), ofm: '(?P<ofm>.*)'\n"
    r"Reason: (?P<reason>.*)\n(?P<detail>(?:.+\n)*)",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Rejection:
    """One op Vela named as not supported: its type, output tensor, reason and the constraint it explains."""

    op: str
    ofm: str
    reason: str
    detail: str


@dataclass(frozen=True)
class VelaOutput:
    """What one Vela run wrote: the compiled model, the summary row, MACs per op type, the rejections."""

    compiled: bytes
    summary: dict[str, str]
    macs_by_op: dict[str, int]
    rejections: tuple[Rejection, ...]
    version: str


def run_vela(model: bytes, config: NpuConfig, timeout: float = TIMEOUT_S) -> VelaOutput:
    """Compile ``model`` with Vela for ``config`` in a temporary folder of this process.

    Raises:
        ConversionError: Vela failed (its last error line), timed out, or wrote no model or summary.
    """
    with process_tempdir(), tempfile.TemporaryDirectory(prefix="edgeq-vela-") as tmp:
        source, out = Path(tmp) / "model.tflite", Path(tmp) / "out"
        source.write_bytes(model)
        done = _run(_command(source, out, config), timeout)
        compiled, summaries = out / "model_vela.tflite", sorted(out.glob("model_summary_*.csv"))
        if done.returncode != 0 or not compiled.is_file() or not summaries:
            raise ConversionError(f"Vela failed for {config.accelerator} (exit {done.returncode}): {_last_line(done)}")
        rows = list(csv.DictReader(io.StringIO(summaries[0].read_text())))
        if not rows:
            raise ConversionError(f"Vela wrote an empty summary {summaries[0].name}; run vela by hand to see why")
        layers = out / "model_per-layer.csv"
        return VelaOutput(
            compiled=compiled.read_bytes(),
            summary=rows[0],
            macs_by_op=_macs_by_op(layers.read_text()) if layers.is_file() else {},
            rejections=parse_rejections(done.stdout),
            version=vela_version(),
        )


def _command(source: Path, out: Path, config: NpuConfig) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ethosu.vela",
        str(source),
        "--accelerator-config",
        config.accelerator,
        "--config",
        str(config.ini),
        "--system-config",
        config.system_config,
        "--memory-mode",
        config.memory_mode,
        "--verbose-performance",
        "--output-dir",
        str(out),
    ]


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return procs.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ConversionError(f"Vela did not finish within {timeout:g} s") from None


def parse_rejections(stdout: str) -> tuple[Rejection, ...]:
    """Every "Warning (supported operators)" block of Vela's output, in order."""
    return tuple(
        Rejection(m["op"].strip(), m["ofm"], m["reason"].strip(), " ".join(m["detail"].split()))
        for m in _WARNING.finditer(stdout.replace("\r\n", "\n"))
    )


def _macs_by_op(text: str) -> dict[str, int]:
    """Vela's per-layer MAC counts summed by the original operator they came from (e.g. ``Conv2D``)."""
    macs: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(text)):
        name = (row.get("Original Operator") or "").strip()
        try:
            count = int(float(row.get("MAC Count") or 0))
        except ValueError:
            continue
        if name:
            macs[name] = macs.get(name, 0) + count
    return macs


def area_bytes(summary: dict[str, str]) -> tuple[dict[str, float], dict[str, int]]:
    """(bytes per inference, memory used in bytes) of each memory area the summary row names with a nonzero figure."""
    moved: dict[str, float] = {}
    used: dict[str, int] = {}
    for area, (bandwidth_col, used_col) in AREAS.items():
        traffic, kib = _number(summary, bandwidth_col), _number(summary, used_col)
        if traffic or kib:
            moved[area] = traffic
            used[area] = round(kib * KIB)
    return moved, used


def _number(summary: dict[str, str], column: str) -> float:
    try:
        return float(summary.get(column) or 0.0)
    except ValueError:
        raise ConversionError(f"Vela's summary has {column}={summary.get(column)!r}, not a number") from None


def number(summary: dict[str, str], column: str) -> float:
    """The summary's ``column`` as a number; ConversionError naming it when missing or not a number."""
    if column not in summary:
        raise ConversionError(f"Vela's summary has no {column} column; this Vela version is not one edgeq reads")
    return _number(summary, column)


def vela_version() -> str:
    """The installed ethos-u-vela's version ("" when its metadata is missing)."""
    from importlib import metadata

    try:
        return metadata.version("ethos-u-vela")
    except metadata.PackageNotFoundError:
        return ""


def _last_line(done: subprocess.CompletedProcess[str]) -> str:
    """Vela's last error line: the last line of stderr (its exception), else of stdout."""
    for text in (done.stderr or "", done.stdout or ""):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            return lines[-1][:300]
    return "no output"
