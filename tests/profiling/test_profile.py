"""``edgeq profile`` on the host targets: real runs, real child processes, the JSON keys tooling relies on."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeq.errors import EdgeqError, UsageError
from edgeq.model import read_model
from edgeq.profiling import profile
from edgeq.profiling.profile import random_sample
from edgeq.targets.host_c import timing_output
from edgeq.worker import peak_rss_bytes
from tests.conftest import FIXTURES

KWS = FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite"
CONV = FIXTURES / "tflite" / "conv_int8.tflite"


def _targets() -> list[str]:
    try:
        import tflite_micro  # noqa: F401
    except ImportError:
        return ["host", "host-c"]
    return ["host", "host-c", "host-tflm"]


@pytest.mark.parametrize("target", _targets())
def test_profile_reports_every_timed_run(target):
    result = profile(CONV, target, runs=25, warmup=2)
    assert len(result.timing.ms) == 25 and result.runs == 25
    lat = result.latency
    assert 0 < lat.p50 <= lat.p90 <= lat.p99 <= lat.max
    assert lat.mean == pytest.approx(np.mean(result.timing.ms))
    assert result.timing.memory.peak_rss_bytes is not None and result.timing.memory.peak_rss_bytes > 0
    assert result.timing.energy is None  # the host's power is unknown: no invented figure


def test_json_keys(cli):
    out = cli("profile", str(CONV), "--target", "host-c", "--runs", "10", "--json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"target", "model", "runs", "latency_ms", "instructions", "memory", "energy_uj"} <= set(data)
    assert set(data["latency_ms"]) == {"mean", "p50", "p90", "p99", "max", "std"}
    assert set(data["memory"]) == {"ram_bytes", "flash_bytes", "peak_rss_bytes"}
    assert data["target"] == "host-c" and data["runs"] == 10


def test_engine_ram_is_its_planned_arena(cli, tmp_path):
    profiled = json.loads(cli("profile", str(CONV), "--target", "host-c", "--runs", "3", "--json").stdout)
    generated = json.loads(cli("generate", str(CONV), "--format", "engine", "-o", str(tmp_path / "e"), "--json").stdout)
    assert profiled["memory"]["ram_bytes"] == generated["arena_bytes"] > 0


def test_several_targets_print_one_table(cli):
    out = cli("profile", str(CONV), "--target", "host", "--target", "host-c", "--runs", "5")
    assert out.exit_code == 0, out.stderr
    rows = [line.split()[0] for line in out.stdout.splitlines()]
    assert "host" in rows and "host-c" in rows


def test_deadline_missed_exits_non_zero_and_says_by_how_much(cli):
    out = cli("profile", str(KWS), "--target", "host-c", "--runs", "5", "--deadline-ms", "0.000001")
    assert out.exit_code == 1
    assert "over the 1e-06 ms deadline" in out.stderr and "p99" in out.stderr
    held = cli("profile", str(CONV), "--target", "host-c", "--runs", "5", "--deadline-ms", "10000")
    assert held.exit_code == 0, held.stderr


def test_energy_estimate_is_labelled_for_a_board_target():
    from edgeq.profiling.profile import estimate_energy

    energy = estimate_energy("nucleo-l4r5zi", 2.0)
    assert energy.kind == "estimated" and "nucleo-l4r5zi" in energy.source
    assert energy.value == pytest.approx(2.0 * 41.0)  # mW x ms = uJ


def test_bad_runs_is_a_usage_error():
    with pytest.raises(UsageError, match="--runs"):
        profile(CONV, "host", runs=0)


def test_user_input_of_the_wrong_shape_is_refused(cli, tmp_path):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((2, 3), np.int8))
    out = cli("profile", str(CONV), "--target", "host", "--input", str(bad), "--runs", "2")
    assert out.exit_code != 0 and "expects" in out.stderr and "\n" not in out.stderr.strip()


def test_random_sample_matches_the_model_inputs():
    graph = read_model(CONV.read_bytes())
    (x,) = random_sample(graph)
    assert x.dtype == np.int8 and x.shape[1:] == tuple(graph.input_tensors[0].shape[1:]) and x.shape[0] == 1


def test_peak_rss_parses_vmhwm():
    assert peak_rss_bytes("Name:\tx\nVmHWM:\t   1234 kB\nVmRSS:\t 1000 kB\n") == 1234 * 1024
    assert peak_rss_bytes("Name:\tx\n") is None


def test_timing_driver_output_is_checked():
    ns, rss = timing_output("100\n200\nvmhwm_kb 8\n", 2)
    assert ns.tolist() == [100.0, 200.0] and rss == 8192
    with pytest.raises(EdgeqError, match="unexpected output"):
        timing_output("100\n", 2)


def test_host_without_xnnpack_says_so(cli):
    out = cli("profile", str(CONV), "--target", "host", "--no-xnnpack", "--runs", "5", "--json")
    assert out.exit_code == 0, out.stderr
    assert "XNNPACK off" in json.loads(out.stdout)["latency_source"]
    on = cli("profile", str(CONV), "--target", "host", "--runs", "5", "--json")
    assert "XNNPACK off" not in json.loads(on.stdout)["latency_source"]
