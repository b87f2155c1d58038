"""How one frame's results become MAVLink messages (no pymavlink here: messages are (name, fields) pairs).

Three encodings, chosen with ``--message``:

- ``named``: one NAMED_VALUE_FLOAT per output value. The values of every
  output, dequantized and flattened in C order, are numbered from 0 across
  the outputs in model order; value ``i`` is called ``PREFIX + str(i)``
  (``eq0`` .. ``eq11`` for a 12-class classifier). Names are at most 10
  characters, MAVLink's limit; a prefix that makes the longest name longer is
  refused before the link is opened.
- ``array``: DEBUG_FLOAT_ARRAY, 58 floats per message. Output ``k`` is called
  ``PREFIX + str(k)``; an output longer than 58 values is split into chunks:
  ``array_id`` is the chunk number (values ``58 * array_id`` onwards), the
  last chunk is padded with zeros. All chunks of one frame carry the same
  ``time_usec``.
- ``landing``: LANDING_TARGET (angles only, ``position_valid`` 0) from two
  output values, see :class:`LandingMap`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgeq.errors import UsageError

NAME_CHARS = 10  # NAMED_VALUE_FLOAT.name and DEBUG_FLOAT_ARRAY.name: char[10]
ARRAY_FLOATS = 58  # DEBUG_FLOAT_ARRAY.data: float[58]
NAMED_VALUES_MAX = 256  # more values per frame than this: use --message array
MAV_FRAME_BODY_FRD = 12
ENCODINGS = ("named", "array", "landing")

Message = tuple[str, dict[str, object]]  # pymavlink's ``<name>_send`` method name without "_send", its fields


@dataclass(frozen=True)
class LandingMap:
    """Which output values locate the target, and how they become angles.

    ``x``, ``y`` and ``distance`` index the dequantized output values numbered
    as for ``named`` (every output flattened, in model order). Without a field
    of view ``value * scale + offset`` are the angles in radians. With
    ``fov_deg = (H, V)`` they are image coordinates in
    [-1, 1] (0 the image centre, +x right, +y down) and the angles are those
    of a pinhole camera: ``angle_x = atan(u * tan(H / 2))`` (likewise y with
    V), so +-1 is the image edge at +-H/2. ``distance`` (m) is the value as it
    is, or 0 when not mapped.
    """

    x: int = 0
    y: int = 1
    distance: int | None = None
    scale: float = 1.0
    offset: float = 0.0
    fov_deg: tuple[float, float] | None = None

    def indices(self) -> list[int]:
        return [self.x, self.y] + ([] if self.distance is None else [self.distance])

    def angles(self, values: np.ndarray) -> tuple[float, float, float]:
        """(angle_x, angle_y, distance) from one frame's flattened output values."""
        ux = float(values[self.x]) * self.scale + self.offset
        uy = float(values[self.y]) * self.scale + self.offset
        if self.fov_deg is not None:
            half_h, half_v = (math.radians(f) / 2 for f in self.fov_deg)
            ux, uy = math.atan(ux * math.tan(half_h)), math.atan(uy * math.tan(half_v))
        distance = 0.0 if self.distance is None else float(values[self.distance])
        return ux, uy, distance


def parse_landing_map(text: str, fov: str | None) -> LandingMap:
    """``--landing-map "x=0,y=1[,distance=2][,scale=S][,offset=O]"`` and ``--fov-deg H,V``; UsageError naming the fix."""
    form = '--landing-map "x=I,y=J[,distance=K][,scale=S][,offset=O]"'
    fields: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in ("x", "y", "distance", "scale", "offset"):
            raise UsageError(f"--landing-map: {part!r} is not x=, y=, distance=, scale= or offset=; give {form}")
        fields[key.strip()] = value.strip()
    index = {k: _index(fields[k], k) for k in ("x", "y", "distance") if k in fields}
    scale = _finite(fields.get("scale", "1"), "--landing-map scale")
    offset = _finite(fields.get("offset", "0"), "--landing-map offset")
    return LandingMap(index.get("x", 0), index.get("y", 1), index.get("distance"), scale, offset, parse_fov(fov))


def parse_fov(text: str | None) -> tuple[float, float] | None:
    """``--fov-deg H,V`` (both in (0, 180)), or None."""
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) != 2:
        raise UsageError(f"--fov-deg {text!r}: give the camera's horizontal and vertical field of view, e.g. 62.2,48.8")
    fov = tuple(_finite(p, "--fov-deg") for p in parts)
    if not all(0 < f < 180 for f in fov):
        raise UsageError(f"--fov-deg {text}: each field of view must be between 0 and 180 degrees")
    return fov[0], fov[1]


def _index(value: str, key: str) -> int:
    if not value.isdigit():
        raise UsageError(f"--landing-map {key}={value}: give the index of an output value (0, 1, ...)")
    return int(value)


def _finite(value: str, what: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"{what} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise UsageError(f"{what} {value!r} is not a finite number")
    return number


class Encoder:
    """One frame's dequantized outputs -> the messages of one encoding (see the module doc)."""

    def __init__(self, encoding: str, sizes: list[int], prefix: str = "eq", landing: LandingMap | None = None):
        self.encoding, self.sizes, self.prefix = encoding, sizes, prefix
        self.landing = landing or LandingMap()
        self._check()

    def _check(self) -> None:
        total = sum(self.sizes)
        if self.encoding not in ENCODINGS:
            raise UsageError(f"--message {self.encoding}: give one of {', '.join(ENCODINGS)}")
        if not self.prefix.isascii() or not self.prefix.isprintable():
            raise UsageError(f"--name-prefix {self.prefix!r}: use printable ASCII characters")
        if self.encoding == "named" and total > NAMED_VALUES_MAX:
            raise UsageError(
                f"the model gives {total} values per frame, too many for one NAMED_VALUE_FLOAT each "
                f"(at most {NAMED_VALUES_MAX}); use --message array"
            )
        last = {"named": total - 1, "array": len(self.sizes) - 1, "landing": 0}[self.encoding]
        if self.encoding != "landing" and len(self.prefix) + len(str(last)) > NAME_CHARS:
            raise UsageError(
                f"--name-prefix {self.prefix!r} makes the name {self.prefix}{last} longer than MAVLink's "
                f"{NAME_CHARS} characters; use at most {NAME_CHARS - len(str(last))} characters"
            )
        bad = [i for i in self.landing.indices() if i >= total]
        if self.encoding == "landing" and bad:
            raise UsageError(
                f"--landing-map index {bad[0]} is past the model's {total} output values (0..{total - 1}); "
                "give indices of output values"
            )

    def names(self) -> list[str]:
        """The name of every value (named) or of every output (array)."""
        count = sum(self.sizes) if self.encoding == "named" else len(self.sizes)
        return [f"{self.prefix}{i}" for i in range(count)]

    def encode(self, outputs: list[np.ndarray], time_usec: int) -> list[Message]:
        """The messages for one frame (``outputs``: dequantized, one array per model output)."""
        if self.encoding == "named":
            values = _flat(outputs)
            ms = (time_usec // 1000) & 0xFFFFFFFF
            return [
                ("named_value_float", {"time_boot_ms": ms, "name": name.encode(), "value": float(v)})
                for name, v in zip(self.names(), values)
            ]
        if self.encoding == "array":
            return [msg for k, out in enumerate(outputs) for msg in self._arrays(k, out, time_usec)]
        angle_x, angle_y, distance = self.landing.angles(_flat(outputs))
        return [("landing_target", _landing_fields(time_usec, angle_x, angle_y, distance))]

    def _arrays(self, k: int, output: np.ndarray, time_usec: int) -> list[Message]:
        values = np.asarray(output, np.float32).ravel()
        name = f"{self.prefix}{k}".encode()
        out = []
        for chunk, start in enumerate(range(0, max(len(values), 1), ARRAY_FLOATS)):
            data = [float(v) for v in values[start : start + ARRAY_FLOATS]]
            data += [0.0] * (ARRAY_FLOATS - len(data))
            out.append(("debug_float_array", {"time_usec": time_usec, "name": name, "array_id": chunk, "data": data}))
        return out

    def messages_per_frame(self) -> int:
        if self.encoding == "named":
            return sum(self.sizes)
        if self.encoding == "array":
            return sum(max(1, math.ceil(s / ARRAY_FLOATS)) for s in self.sizes)
        return 1


def _flat(outputs: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(o, np.float32).ravel() for o in outputs])


def _landing_fields(time_usec: int, angle_x: float, angle_y: float, distance: float) -> dict[str, object]:
    return {
        "time_usec": time_usec,
        "target_num": 0,
        "frame": MAV_FRAME_BODY_FRD,
        "angle_x": angle_x,
        "angle_y": angle_y,
        "distance": distance,
        "size_x": 0.0,
        "size_y": 0.0,
    }
