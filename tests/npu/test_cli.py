"""``edgeq compile --npu`` and the ethos-u profile targets through the command line, with the real Vela."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.npu.conftest import KWS, KWS_FLOAT, SQRT

pytest.importorskip("ethosu.vela", reason="Arm's Vela is not installed (pip install 'edgeq[npu]')")


def test_compile_writes_the_model_and_its_report_and_prints_the_placement(cli, tmp_path):
    out = tmp_path / "kws_u55.tflite"
    result = cli("compile", str(KWS), "--npu", "ethos-u55-128", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    report = json.loads(out.with_suffix(".json").read_text())
    assert out.read_bytes()[4:8] == b"TFL3" and report["compiled_bytes"] == out.stat().st_size
    assert report["model"] == str(KWS) and report["npu_ops"] == 16 and report["cpu_ops"] == 0
    assert report["estimated"] is True and report["npu_clock_hz"] == 500_000_000
    text = result.stdout
    assert "ethos-u55-128" in text and "Ethos_U55_High_End_Embedded" in text and "Shared_Sram" in text
    assert "500 MHz" in text and "ops on the NPU: 16 of 16" in text
    assert f"{report['npu_cycles']:,} (estimated)" in text and "ms (estimated, at 500 MHz)" in text
    assert "SRAM used" in text and "Off-chip Flash used" in text and "per cycle" in text
    assert "not measured: no Ethos-U simulator or board was run" in text


def test_compile_shows_each_cpu_op_with_its_reason_and_json_has_it_too(cli, tmp_path):
    out = tmp_path / "sqrt.tflite"
    result = cli("compile", str(SQRT), "--npu", "ethos-u55-128", "-o", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    printed = result.json()
    assert printed == {**json.loads(out.with_suffix(".json").read_text())}
    (sqrt,) = [op for op in printed["ops"] if op["placement"] == "cpu"]
    assert sqrt["op"] == "SQRT" and "Unsupported opType" in sqrt["reason"]
    text = cli("compile", str(SQRT), "--npu", "ethos-u55-128", "-o", str(out)).stdout
    assert [line.split()[:3] for line in text.splitlines() if "  CPU  " in line] == [["2", "SQRT", "CPU"]]
    assert "the CPU ops' time is not included" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--npu", "ethos-u55-128", "-o", "{tmp}/f.tflite"), "is a float model;"),
        (("--npu", "ethos-u99-1", "-o", "{tmp}/f.tflite"), "unknown Ethos-U accelerator 'ethos-u99-1'"),
        (("--npu", "ethos-u55-128", "--system-config", "Nope", "-o", "{tmp}/f.tflite"), "unknown system config"),
        (("--npu", "ethos-u55-128", "-o", "/proc/edgeq/f.tflite"), "cannot write /proc/edgeq/f.tflite"),
    ],
)
def test_usage_errors_are_one_line_exit_2_and_write_nothing(cli, tmp_path, args, message):
    model = KWS_FLOAT if "float" in message else KWS
    result = cli("compile", str(model), *(a.format(tmp=tmp_path) for a in args))
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_vela_missing_is_one_line_naming_the_extra(tmp_path):
    """A child edgeq where the ethosu package cannot be imported (as without the npu extra)."""
    code = (
        "import sys; sys.modules['ethosu'] = None; from edgeq.cli import main; "
        f"sys.exit(main(['compile', {str(KWS)!r}, '--npu', 'ethos-u55-128', '-o', {str(tmp_path / 'o.tflite')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: Arm's Vela compiler is not installed")
    assert "pip install 'edgeq[npu]'" in done.stderr and list(tmp_path.iterdir()) == []


def test_profile_gives_vela_estimated_latency_with_its_source(cli):
    result = cli("profile", str(SQRT), "--target", "ethos-u55-128", "--runs", "3", "--json")
    assert result.exit_code == 0, result.stderr
    p = result.json()
    assert p["latency_kind"] == "estimated" and p["cycles"]["kind"] == "estimated"
    source = p["latency_source"]
    assert source.startswith("Vela's performance estimate for ethos-u55-128 at 500 MHz (Ethos_U55_High_End_Embedded")
    assert "not measured: no Ethos-U simulator or board was run" in source
    assert "the time of the CPU ops is not included" in source and source.endswith("2 SQRT")
    assert p["latency_ms"]["mean"] == pytest.approx(p["cycles"]["value"] / 500e6 * 1e3)
    assert p["energy_uj"] is None and any("no energy figure" in n for n in p["notes"])
    assert p["memory"]["ram_bytes"] > 0 and p["memory"]["flash_bytes"] > 0


def test_the_npu_target_cannot_run_and_says_where_outputs_come_from(cli, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((1, 16), np.int8))
    result = cli("run", str(SQRT), "--target", "ethos-u65-256", "--input", str(x), "-o", str(tmp_path / "y.npy"))
    assert result.exit_code == 1 and "use --target host-tflm for outputs" in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "y.npy").exists()
