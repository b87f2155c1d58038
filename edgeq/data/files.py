""".npy and .npz files, and the quick check of a data path before any slow work starts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeq.errors import DatasetError, UsageError
from edgeq.qtypes import DataSource

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff", ".webp"}
DATA_KINDS = ".npy, .npz, a folder of images or .bin files, or module:function"


def _head(path: Path, size: int = 8) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except OSError as exc:
        raise DatasetError(f"cannot read {path} ({exc.strerror or exc}); check its permissions") from None


def _shown(head: bytes) -> str:
    return "is empty" if not head else f"starts with {head[:8]!r}"


def check_npy(path: Path) -> None:
    """DatasetError unless ``path`` is a readable file in numpy.save format."""
    head = _head(path)
    if not head.startswith(NPY_MAGIC):
        raise DatasetError(
            f"{path} is not an .npy file (numpy.save format; this file {_shown(head)}); save the array with numpy.save"
        )


def check_npz(path: Path) -> None:
    """DatasetError unless ``path`` is a readable file in numpy.savez format (a zip)."""
    head = _head(path)
    if not head.startswith(ZIP_MAGICS):
        raise DatasetError(
            f"{path} is not an .npz file (numpy.savez format, a zip; this file {_shown(head)}); "
            "save the arrays with numpy.savez"
        )


def load_npy(path: Path) -> np.ndarray:
    """The array of an .npy file; DatasetError naming the problem otherwise."""
    check_npy(path)
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise DatasetError(f"{path} holds Python objects, not numbers; save a numeric array") from None
        raise DatasetError(f"{path} is a damaged .npy file ({exc}); save it again with numpy.save") from exc
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path} is a damaged .npy file ({exc}); save it again with numpy.save") from exc


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """{name: array} of an .npz file; DatasetError naming the problem otherwise."""
    check_npz(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc):
            raise DatasetError(f"{path} holds Python objects, not numbers; save numeric arrays") from None
        raise DatasetError(f"{path} is a damaged .npz file ({exc}); save it again with numpy.savez") from exc
    except Exception as exc:  # noqa: BLE001 - zipfile and numpy raise many types
        raise DatasetError(f"{path} is a damaged .npz file ({exc}); save it again with numpy.savez") from exc


def looks_like_module_spec(text: str) -> bool:
    module, sep, func = text.partition(":")
    return bool(sep) and module.replace(".", "").replace("_", "").isalnum() and func.isidentifier()


def check_data_path(source: DataSource | None, *, bins_only: bool = False, option: str = "-d") -> None:
    """Check a data argument in milliseconds, before a model loads: it exists, is readable, of a known kind.

    Arrays, callables and ``module:function`` specs pass (they are checked when read).
    ``bins_only``: the ``--bin-*`` options were given, so the data must be a folder of .bin files.
    """
    if source is None or not isinstance(source, (str, Path)):
        return
    path = Path(source)
    if not path.exists() and looks_like_module_spec(str(source)):
        if bins_only:
            raise UsageError(f"--bin-dtype reads .bin files, but {option} {source} is a Python function")
        return
    if not path.exists():
        raise DatasetError(f"{option} {path}: no such file or folder (data: {DATA_KINDS})")
    if path.is_dir():
        _check_folder(path, bins_only, option)
        return
    if bins_only:
        raise UsageError(f"--bin-dtype reads .bin files, but {option} {path} is a file; give the folder of .bin files")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        check_npy(path)
    elif suffix == ".npz":
        check_npz(path)
    else:
        raise DatasetError(f"{path}: unsupported data file {suffix or '(no extension)'!r}; use {DATA_KINDS}")


def _check_folder(path: Path, bins_only: bool, option: str) -> None:
    try:
        entries = [p for p in path.iterdir() if not p.name.startswith(".")]
    except OSError as exc:
        raise DatasetError(f"cannot list {path} ({exc.strerror or exc}); check its permissions") from None
    suffixes = {p.suffix.lower() for p in entries}
    has_bins = ".bin" in suffixes
    if bins_only and not has_bins:
        raise UsageError(f"--bin-dtype reads .bin files, but {option} {path} holds none")
    if not has_bins and not suffixes & IMAGE_SUFFIXES:
        if any(p.is_dir() for p in entries):
            return  # class folders of labelled images
        raise DatasetError(f"{path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}) and no .bin files")
