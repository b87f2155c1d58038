"""The board database: one YAML file per board in ``edgeq/boards/files/``, loaded into frozen dataclasses.

A board file records what edgeq needs to build for, run on and estimate a board
(core and ISA flags, clock, flash, RAM, memory map, serial settings, flasher,
runtimes, QEMU timing, power figures, published reference results) and where
every number comes from. The dataclasses live in :mod:`edgeq.boards.schema`.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import yaml

from edgeq.boards.rules import BoardFileError, check
from edgeq.boards.schema import (
    BENCHMARKS,
    FLASHERS,
    RUNTIMES,
    Board,
    BoardKind,
    CpuSpec,
    EdgeTpuSpec,
    MemoryRegion,
    PowerFigure,
    PublishedLatency,
    QemuSpec,
    ReferenceResult,
    SerialSpec,
)
from edgeq.errors import UsageError
from edgeq.resources import package_dir

# The board files: package data of edgeq.boards (see boards_dir()).
BOARDS_DIR = Path(__file__).resolve().parent / "files"

__all__ = [
    "BENCHMARKS",
    "BOARDS_DIR",
    "FLASHERS",
    "RUNTIMES",
    "Board",
    "BoardFileError",
    "BoardKind",
    "CpuSpec",
    "EdgeTpuSpec",
    "MemoryRegion",
    "PowerFigure",
    "PublishedLatency",
    "QemuSpec",
    "ReferenceResult",
    "SerialSpec",
    "board_from_dict",
    "boards_dir",
    "list_boards",
    "load_board",
]


def boards_dir() -> Path:
    """The folder of board files (``edgeq/boards/files``, package data of edgeq.boards)."""
    return package_dir(__name__, "files")


def _board_files() -> dict[str, Path]:
    return {path.stem: path for path in sorted(boards_dir().glob("*.yaml"))}


def list_boards() -> list[Board]:
    """Every board of the database, microcontrollers first, then by id."""
    order = list(BoardKind)
    return sorted((_load_file(p) for p in _board_files().values()), key=lambda b: (order.index(b.kind), b.id))


def load_board(board: str | Path) -> Board:
    """The board with id ``board`` (case-insensitive), or the board file at path ``board``.

    Raises:
        UsageError: no such board or file.
        BoardFileError: the file breaks the schema (the message names file and field).
    """
    text = str(board)
    if isinstance(board, Path) or text.endswith((".yaml", ".yml")) or "/" in text:
        if not Path(board).is_file():
            raise UsageError(f"board file {board} does not exist")
        return _load_file(Path(board))
    files = _board_files()
    if text.lower() not in files:
        raise UsageError(f"unknown board {text!r}; known boards: {', '.join(files)} (edgeq boards lists them)")
    return _load_file(files[text.lower()])


def _load_file(path: Path) -> Board:
    try:
        board = board_from_dict(yaml.safe_load(path.read_text(encoding="utf-8")), path)
    except yaml.YAMLError as exc:
        raise BoardFileError(f"board file {path} is not valid YAML: {exc}") from exc
    except BoardFileError as exc:
        raise BoardFileError(f"board file {path}: {exc}") from exc
    check(board.id == path.stem, f"board file {path}: id", f"{board.id!r} differs from the file name {path.stem!r}")
    return board


def board_from_dict(data: dict[str, Any], path: Path | None = None) -> Board:
    """Build a :class:`Board` from a parsed board file; nested mappings become the dataclasses above."""
    check(isinstance(data, dict), "board", f"must be a mapping of fields, got {type(data).__name__}")
    data = dict(data)
    if isinstance(data.get("edgetpu"), dict):
        data["edgetpu"] = {**data["edgetpu"], "latencies": _list_of(PublishedLatency, data["edgetpu"], "latencies")}
    for name, cls in (("cpu", CpuSpec), ("serial", SerialSpec), ("qemu", QemuSpec), ("edgetpu", EdgeTpuSpec)):
        if data.get(name) is not None:
            data[name] = _build(cls, data[name], name)
    data["memory_map"] = _list_of(MemoryRegion, data, "memory_map")
    data["power"] = _list_of(PowerFigure, data, "power")
    data["reference_results"] = [
        r for n, group in enumerate(_list_of(None, data, "reference_results")) for r in _results(group, n)
    ]
    return _build(Board, data, "", path=path)


def _list_of(cls: type | None, data: dict[str, Any], name: str) -> list[Any]:
    items = data.get(name) or []
    check(isinstance(items, list), name, f"must be a list, got {type(items).__name__}")
    return items if cls is None else [_build(cls, item, f"{name}[{n}]") for n, item in enumerate(items)]


def _results(group: Any, n: int) -> list[ReferenceResult]:
    """One submission (shared suite, version, framework, source; numbers per benchmark) as flat results."""
    where = f"reference_results[{n}]"
    check(
        isinstance(group, dict) and isinstance(group.get("results"), dict), where, "needs results: benchmark -> numbers"
    )
    shared = {key: value for key, value in group.items() if key != "results"}
    out = []
    for bench, numbers in group["results"].items():
        check(isinstance(numbers, dict), f"{where}.results.{bench}", "must be a mapping")
        out.append(_build(ReferenceResult, {**shared, **numbers, "benchmark": bench}, f"{where}.results.{bench}"))
    return out


def _build(cls: type, data: Any, where: str, **extra: Any) -> Any:
    """``cls(**data, **extra)``, naming ``where`` and the field in any error."""
    where = where or "board"
    check(isinstance(data, dict), where, f"must be a mapping, got {type(data).__name__}")
    allowed = [f.name for f in fields(cls) if f.name not in extra]
    required = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
    unknown = [key for key in data if key not in allowed]
    check(not unknown, where, f"unknown field {unknown[0]!r} (known: {', '.join(allowed)})" if unknown else "")
    missing = [name for name in required if name not in data]
    check(not missing, where, f"missing field {missing[0]!r}" if missing else "")
    try:
        return cls(**data, **extra)
    except BoardFileError as exc:
        raise BoardFileError(str(exc) if where == "board" else f"{where}.{exc}") from None
