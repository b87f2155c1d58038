"""edgeq demo: trains, converts and compares, offline."""

from __future__ import annotations

import pytest

from edgeq.model import read_model

pytestmark = pytest.mark.slow


def test_demo_end_to_end(cli, tmp_path):
    result = cli("demo", "-o", str(tmp_path / "demo"), "--json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    rows = {r["model"]: r for r in report["rows"]}
    assert set(rows) == {"float32", "int8"}
    assert rows["float32"]["accuracy"] > 0.9
    assert rows["int8"]["accuracy"] > rows["float32"]["accuracy"] - 0.03  # int8 keeps the accuracy
    assert rows["int8"]["size_bytes"] < 0.6 * rows["float32"]["size_bytes"]
    assert rows["int8"]["latency_ms_p99"] >= rows["int8"]["latency_ms_p50"] > 0
    assert report["tflm"]["board"] == "nano33-ble-sense" and report["tflm"]["arena_bytes"] > 0
    assert (tmp_path / "demo" / "digits_tflm" / "digits_ops.h").is_file()
    engine = report["tflm"]["engine"]
    assert 0 < engine["arena_bytes"] < report["tflm"]["arena_bytes"]
    assert (tmp_path / "demo" / "digits_engine" / "digits.c").is_file()
    profiled = {p["target"]: p for p in report["profiles"]}
    assert {"host", "host-c"} <= set(profiled)
    assert all(p["latency_ms"]["p99"] >= p["latency_ms"]["p50"] > 0 for p in profiled.values())
    if "qemu-m4" in profiled:  # installed by the set-up; skipped (and said so) elsewhere
        assert profiled["qemu-m4"]["instructions"] > 0 and profiled["qemu-m4"]["energy_uj"]["kind"] == "estimated"
    else:
        assert any(s.startswith("qemu-m4") for s in report["skipped_targets"])
    html = (tmp_path / "demo" / "profile.html").read_text()
    assert report["report"].endswith("profile.html") and html.count("latency-plot") >= 2
    graph = read_model(tmp_path / "demo" / "digits_int8.tflite")
    assert {t.dtype for t in graph.tensors} <= {"int8", "int32"}


def test_demo_text_table(cli, tmp_path):
    result = cli("demo", "-o", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.stderr
    assert "float32" in result.stdout and "int8" in result.stdout and "x the float size" in result.stdout
    assert "TFLM project for nano33-ble-sense" in result.stdout
    assert "edgeq compiled engine" in result.stdout
    assert "the int8 model on every target" in result.stdout and "p99" in result.stdout
