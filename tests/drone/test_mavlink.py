"""edgeq mavlink against a simulated autopilot on loopback UDP (tests/drone/autopilot.py).

edgeq runs as a subprocess (``python -m edgeq mavlink``) wherever signals,
exit codes or timing matter; every process a test starts is stopped by the
test (terminate, then kill after a timeout).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymavlink")

from tests.drone.autopilot import Autopilot, free_udp_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
KWS = ROOT / "tests/fixtures/zoo/kws_dscnn/int8.tflite"
CLASSES = 12


@pytest.fixture
def frames(tmp_path: Path) -> Path:
    """Six real-valued KWS frames (49x10x1 MFCC-like values in [-30, 30])."""
    path = tmp_path / "frames.npy"
    np.save(path, np.random.default_rng(7).uniform(-30, 30, (6, 49, 10, 1)).astype(np.float32))
    return path


@pytest.fixture
def autopilot():
    with Autopilot(free_udp_port()) as ap:
        yield ap


def expected(inputs: np.ndarray, target: str = "host") -> np.ndarray:
    """What ``edgeq run`` gives for ``inputs``, dequantized: (N, 12) float32."""
    from edgeq.batch_run import run
    from edgeq.model import read_model
    from edgeq.model.io import model_outputs

    raw = run(KWS, target, [inputs]).outputs[0]
    return model_outputs(read_model(KWS.read_bytes()))[0].dequantize(raw).reshape(len(inputs), -1)


def start(autopilot: Autopilot, *args: str, stdin: int | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "edgeq", "mavlink", str(KWS), "--connection", f"udpout:127.0.0.1:{autopilot.port}"]
    return subprocess.Popen([*cmd, *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)


def finish(proc: subprocess.Popen, timeout: float = 20.0, stdin: bytes | None = None) -> tuple[int, str, str]:
    """Wait for ``proc`` (terminate, then kill, when it overruns); (exit code, stdout, stderr)."""
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        raise AssertionError(f"edgeq mavlink did not end within {timeout} s:\n{err.decode()}") from None
    return proc.returncode, out.decode(), err.decode()


def run_edgeq(autopilot: Autopilot, *args: str, timeout: float = 20.0) -> tuple[dict, str]:
    code, out, err = finish(start(autopilot, *args, "--json"), timeout)
    assert code == 0, err
    time.sleep(0.1)  # the last datagrams reach the autopilot's thread
    return json.loads(out), err


def named_frames(autopilot: Autopilot) -> list[dict[str, float]]:
    """NAMED_VALUE_FLOAT values grouped by frame (one time_boot_ms per frame), in arrival order."""
    frames: dict[int, dict[str, float]] = {}
    for m in autopilot.messages("NAMED_VALUE_FLOAT"):
        frames.setdefault(m.fields["time_boot_ms"], {})[m.fields["name"]] = m.fields["value"]
    return list(frames.values())


def test_named_values_equal_edgeq_run(autopilot, frames):
    summary, err = run_edgeq(autopilot, "--input", str(frames), "--rate", "50")
    want = expected(np.load(frames))
    got = named_frames(autopilot)
    assert len(got) == len(want) == summary["frames"] == summary["sent"] == 6
    for values, row in zip(got, want):
        assert list(values) == [f"eq{i}" for i in range(CLASSES)]
        np.testing.assert_array_equal(np.float32(list(values.values())), row)
    assert summary["autopilot"] == {
        "sysid": 1,
        "compid": 1,
        "autopilot": "MAV_AUTOPILOT_ARDUPILOTMEGA",
        "type": "MAV_TYPE_QUADROTOR",
    }
    assert summary["dropped"] == summary["link_losses"] == 0
    assert summary["inference_ms"]["p50"] > 0 and "LiteRT" in summary["inference_source"]
    assert "autopilot heard on" in err


def test_debug_float_arrays_equal_edgeq_run(autopilot, frames):
    summary, _ = run_edgeq(
        autopilot, "--input", str(frames), "--rate", "50", "--message", "array", "--name-prefix", "kws"
    )
    want = expected(np.load(frames))
    arrays = autopilot.messages("DEBUG_FLOAT_ARRAY")
    assert len(arrays) == summary["frames"] == 6
    for m, row in zip(arrays, want):
        assert (m.fields["name"], m.fields["array_id"]) == ("kws0", 0)
        np.testing.assert_array_equal(np.float32(m.fields["data"][:CLASSES]), row)
        assert not any(m.fields["data"][CLASSES:])
    stamps = [m.fields["time_usec"] for m in arrays]
    assert stamps == sorted(stamps) and stamps[0] > 0


def test_landing_target_angles_follow_the_map(autopilot, frames):
    mapping = "x=3,y=7,distance=1,scale=2"
    summary, _ = run_edgeq(
        autopilot, "--input", str(frames), "--rate", "50", "--message", "landing", "--landing-map", mapping,
        "--fov-deg", "60,45",
    )  # fmt: skip
    want = expected(np.load(frames))
    targets = autopilot.messages("LANDING_TARGET")
    assert len(targets) == summary["frames"] == 6
    for m, row in zip(targets, want):
        ax = math.atan(2 * float(row[3]) * math.tan(math.radians(30)))
        ay = math.atan(2 * float(row[7]) * math.tan(math.radians(22.5)))
        assert m.fields["angle_x"] == pytest.approx(ax, rel=1e-6, abs=1e-7)
        assert m.fields["angle_y"] == pytest.approx(ay, rel=1e-6, abs=1e-7)
        assert m.fields["distance"] == pytest.approx(float(row[1]), rel=1e-6, abs=1e-7)
        assert m.fields["position_valid"] == 0 and m.fields["frame"] == 12  # MAV_FRAME_BODY_FRD, angles only


def test_rate_and_heartbeat(autopilot, frames):
    summary, _ = run_edgeq(autopilot, "--input", str(frames), "--rate", "20", "--loop", "--duration", "2.5")
    got = len(named_frames(autopilot))
    assert 35 <= got <= 52 and got == summary["frames"]  # 50 at exactly 20 Hz; loose, not a timing test
    assert summary["stopped_by"] == "duration"
    beats = [m for m in autopilot.messages("HEARTBEAT") if m.compid == 191]
    assert 2 <= len(beats) <= 5
    for beat in beats:
        assert (beat.sysid, beat.fields["type"], beat.fields["autopilot"]) == (1, 18, 8)  # onboard controller


def test_link_loss_and_return(frames):
    port = free_udp_port()
    first = Autopilot(port).start()
    proc = start(first, "--input", str(frames), "--rate", "20", "--loop", "--duration", "8", "--json")
    try:
        first.wait_for("NAMED_VALUE_FLOAT", 24, timeout=10)
        first.stop()  # heartbeat and socket gone
        time.sleep(4.0)  # > 3 s without a heartbeat: the link is lost, edgeq goes on
        with Autopilot(port) as second:  # back on the same port, a new socket
            second.wait_for("NAMED_VALUE_FLOAT", 24, timeout=5)
            code, out, err = finish(proc, timeout=10)
    finally:
        first.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["link_losses"] == 1
    assert summary["undelivered"] > 0 and summary["sent"] > 0
    assert summary["frames"] == summary["sent"] + summary["undelivered"]
    assert err.count("link lost") == 1 and err.count("autopilot heard again") == 1


def test_sigterm_stops_with_a_summary(autopilot, frames):
    proc = start(autopilot, "--input", str(frames), "--rate", "20", "--loop")
    try:
        autopilot.wait_for("NAMED_VALUE_FLOAT", 12, timeout=10)
        proc.send_signal(signal.SIGTERM)
        code, out, err = finish(proc, timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, err
    assert "stopped by SIGTERM" in out and "0 link losses" in out


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(
    not all(os.access(p, os.X_OK) for p in ("/usr/bin/qemu-system-arm", "/usr/bin/arm-none-eabi-gcc")),
    reason="needs qemu-system-arm and arm-none-eabi-gcc",
)
def test_qemu_target_stops_qemu_on_sigterm(autopilot, frames):
    proc = start(autopilot, "--input", str(frames), "--rate", "20", "--loop", "--target", "qemu-m4")
    try:
        first = autopilot.wait_for("NAMED_VALUE_FLOAT", 12, timeout=120)[:12]
        qemu = [p for p in _children(proc.pid) if "qemu" in (Path("/proc") / str(p) / "comm").read_text()]
        assert qemu, "the qemu-m4 session runs QEMU as a child of edgeq"
        proc.send_signal(signal.SIGTERM)
        code, out, err = finish(proc, timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, err
    assert "stopped by SIGTERM" in out and "~" in out  # emulated board: estimated inference time
    assert not any(_alive(p) for p in qemu)
    want = expected(np.load(frames)[:1], "qemu-m4")[0]  # edgeq run on the same target
    np.testing.assert_array_equal(np.float32([m.fields["value"] for m in first]), want)


def test_stdin_frames_and_a_short_one(autopilot, frames):
    from edgeq.model import read_model
    from edgeq.model.io import model_inputs

    spec = model_inputs(read_model(KWS.read_bytes()))[0]
    quantized = spec.quantize(np.load(frames)[:3])
    data = quantized.tobytes() + quantized[0].tobytes()[:100]  # three frames, then one cut short
    proc = start(autopilot, "--input", "-", "--rate", "50", "--json", stdin=subprocess.PIPE)
    code, out, err = finish(proc, stdin=data)
    assert code == 0, err
    summary = json.loads(out)
    time.sleep(0.1)
    got = named_frames(autopilot)
    assert summary["frames"] == len(got) == 3 and summary["malformed"] == 1
    np.testing.assert_array_equal(np.float32([list(f.values()) for f in got]), expected(quantized))
    assert "stdin ended inside a frame: 100 of 490 bytes" in err


@pytest.fixture
def no_link(monkeypatch):
    """Opening the link fails the test: bad options must be refused before it."""

    def refuse(*args, **kwargs):
        raise AssertionError("the link was opened")

    monkeypatch.setattr("edgeq.mavlink.link.Link.__init__", refuse)


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--connection", "bogus"], 2, "udpin:HOST:PORT"),
        (["--connection", "udpout:127.0.0.1:70000"], 2, "port 1-65535"),
        (["--connection", "/dev/edgeq-no-such-tty,57600"], 2, "does not exist"),
        (["--rate", "0"], 2, "--rate"),
        (["--rate", "nan"], 2, "finite"),
        (["--count", "0"], 2, "--count"),
        (["--name-prefix", "prefix-long"], 2, "at most 8 characters"),
        (["--message", "landing", "--landing-map", "x=0,y=12"], 2, "past the model's 12 output values"),
        (["--message", "landing", "--landing-map", "x=a"], 2, "index of an output value"),
        (["--message", "landing", "--fov-deg", "200,40"], 2, "between 0 and 180"),
        (["--input", "-", "--loop"], 2, "drop --loop"),
        (["--target", "nowhere"], 2, "unknown target"),
        (["--target", "host", "--port", "/dev/ttyACM0"], 2, "takes no --port"),
    ],
)
def test_bad_options_fail_before_the_link(cli, no_link, frames, args, code, words):
    base = {"--connection": "udpout:127.0.0.1:14550", "--input": str(frames)}
    for flag in args:
        base.pop(flag, None)
    extra = [x for pair in base.items() for x in pair]
    result = cli("mavlink", str(KWS), *extra, *args)
    assert result.exit_code == code, result.stderr
    line = result.stderr.strip()
    assert line.startswith("error:") and "\n" not in line and words in line, line


def test_bad_model_and_input_fail_before_the_link(cli, no_link, frames, tmp_path):
    result = cli("mavlink", str(frames), "--connection", "udpout:127.0.0.1:14550", "--input", str(frames))
    assert result.exit_code == 1 and result.stderr.startswith("error:"), result.stderr
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((3, 10, 49, 1), np.float32))
    result = cli("mavlink", str(KWS), "--connection", "udpout:127.0.0.1:14550", "--input", str(wrong))
    assert result.exit_code == 1 and "expects (N, 49, 10, 1)" in result.stderr, result.stderr
    result = cli("mavlink", str(KWS), "--connection", "udpout:127.0.0.1:14550", "--input", str(tmp_path / "none.npy"))
    assert result.exit_code == 1 and "does not exist" in result.stderr, result.stderr


def test_imports_neither_pymavlink_nor_tensorflow_until_it_runs():
    code = (
        "import sys, edgeq.cli.mavlink, edgeq.mavlink.companion, edgeq.mavlink.sources, edgeq.mavlink.ros2_source; "
        "bad = [m for m in ('pymavlink', 'tensorflow', 'rclpy') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_encoder_names_chunks_and_angles():
    from edgeq.mavlink.messages import Encoder, LandingMap, parse_landing_map

    named = Encoder("named", [2, 3], "p")
    assert named.names() == ["p0", "p1", "p2", "p3", "p4"]
    msgs = named.encode([np.float32([1, 2]), np.float32([[3, 4, 5]])], 1_234_567)
    assert [(f["name"], f["value"], f["time_boot_ms"]) for _, f in msgs][-1] == (b"p4", 5.0, 1234)

    arrays = Encoder("array", [130, 4], "o").encode([np.arange(130, dtype=np.float32), np.ones(4)], 5)
    assert [(f["name"], f["array_id"]) for _, f in arrays] == [(b"o0", 0), (b"o0", 1), (b"o0", 2), (b"o1", 0)]
    assert arrays[2][1]["data"][:14] == [float(v) for v in range(116, 130)] and arrays[2][1]["data"][14:] == [0.0] * 44

    radians = Encoder("landing", [3], landing=LandingMap(x=2, y=0, scale=0.5)).encode([np.float32([0.2, 9, -0.4])], 0)
    assert radians[0][1]["angle_x"] == pytest.approx(-0.2) and radians[0][1]["angle_y"] == pytest.approx(0.1)
    edge = LandingMap(fov_deg=(90.0, 60.0)).angles(np.float32([1, -1]))
    assert edge[0] == pytest.approx(math.radians(45)) and edge[1] == pytest.approx(math.radians(-30))
    unit = parse_landing_map("x=1,y=0,distance=2,scale=2,offset=-1", "90,60")  # [0, 1] image coordinates
    assert unit.angles(np.float32([0.0, 0.5, 7.5])) == pytest.approx((0.0, math.radians(-30), 7.5))


def test_frames_from_a_ros2_topic(autopilot, frames, tmp_path):
    pytest.importorskip("rclpy", reason="ROS 2 is the ros2 extra")
    from std_msgs.msg import Float32MultiArray

    from tests.ros2.conftest import PROFILE, Peer

    domain = (os.getpid() * 11) % 60 + 160
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain), FASTRTPS_DEFAULT_PROFILES_FILE=PROFILE)
    env.update(ROS_LOG_DIR=str(tmp_path / "ros-log"))
    env.pop("ROS_AUTOMATIC_DISCOVERY_RANGE", None)
    cmd = [sys.executable, "-m", "edgeq", "mavlink", str(KWS), "--connection", f"udpout:127.0.0.1:{autopilot.port}"]
    args = ["--input", "ros2:/edgeq/mavlink_in", "--rate", "50", "--count", "3", "--json"]
    proc = subprocess.Popen([*cmd, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    peer = Peer(domain)
    try:
        pub = peer.publisher(Float32MultiArray, "/edgeq/mavlink_in")
        x = np.load(frames)[:1]
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            pub.publish(Float32MultiArray(data=x.reshape(-1).tolist()))
            time.sleep(0.05)
        code, out, err = finish(proc, timeout=10)
    finally:
        peer.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, err
    summary = json.loads(out)
    time.sleep(0.1)
    got = named_frames(autopilot)
    assert summary["frames"] == len(got) == 3 and summary["stopped_by"] == "count"
    for values in got:
        np.testing.assert_array_equal(np.float32(list(values.values())), expected(x)[0])
