"""Atomic output: a failure while writing leaves nothing behind."""

from __future__ import annotations

import pytest

from edgeq.errors import UsageError
from edgeq.outputs import atomic_write, atomic_write_many


def test_all_or_nothing(tmp_path):
    (tmp_path / "m.json").mkdir()  # the second target cannot be written
    with pytest.raises(UsageError, match="is a folder"):
        atomic_write_many([(tmp_path / "m.tflite", b"model"), (tmp_path / "m.json", b"{}")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_replaces_existing_file_whole(tmp_path):
    target = tmp_path / "sub" / "m.tflite"
    atomic_write(target, b"old")
    atomic_write(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert [p.name for p in target.parent.iterdir()] == ["m.tflite"]


def test_outputs_get_the_mode_a_plain_open_gives(tmp_path):
    import os

    from edgeq.outputs import atomic_write

    mask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "m.tflite", b"x")
    finally:
        os.umask(mask)
    assert (tmp_path / "m.tflite").stat().st_mode & 0o777 == 0o644
