"""Image folders: decoded with Pillow, resized to the input's height and width."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeq.errors import DatasetError
from edgeq.qtypes import DataSpec


def image_geometry(spec: DataSpec) -> tuple[int, int, int]:
    """(height, width, channels) of an NHWC image input, or a DatasetError."""
    shape = spec.sample_shape
    if len(shape) != 3 or shape[2] not in (1, 3) or None in shape:
        raise DatasetError(
            f"input {spec.name} {spec.shape_str()} is not an NHWC image with 1 or 3 channels; "
            "pass .npy data instead of an image folder"
        )
    return int(shape[0]), int(shape[1]), int(shape[2])  # type: ignore[arg-type]


def load_images(files: list[Path], spec: DataSpec, scale: float, offset: float) -> np.ndarray:
    """Load ``files`` as float32 (N, H, W, C): pixel (0..255) * scale + offset."""
    from PIL import Image, UnidentifiedImageError

    height, width, channels = image_geometry(spec)
    mode = "L" if channels == 1 else "RGB"
    out = np.empty((len(files), height, width, channels), np.float32)
    for i, path in enumerate(files):
        try:
            with Image.open(path) as img:
                # Pillow >= 9.1 sets Image.BILINEAR at run time (from Image.Resampling), out of its stubs' sight
                img = img.convert(mode).resize((width, height), Image.BILINEAR)  # type: ignore[attr-defined]
                pixels = np.asarray(img, dtype=np.float32)
        except (UnidentifiedImageError, OSError) as exc:
            raise DatasetError(f"{path} is not a readable image ({exc}); remove it from the folder") from exc
        out[i] = pixels.reshape(height, width, channels)
    return out * np.float32(scale) + np.float32(offset)
