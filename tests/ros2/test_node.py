"""edgeq ros2 run: a real node over real DDS (loopback only), equal to edgeq run on the same target."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from PIL import Image as PILImage
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Float32MultiArray, Header, Int8MultiArray, Int32

from edgeq.batch_run import run
from edgeq.data.images import load_images
from edgeq.model import read_model
from edgeq.model.io import model_inputs, model_outputs
from edgeq.qtypes import DataSpec
from tests.conftest import FIXTURES
from tests.ros2.conftest import Peer, start_node, stop

KWS = FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite"
VWW = FIXTURES / "zoo" / "vww_mobilenet" / "int8.tflite"
START_S = 120.0  # a node on a cold cache builds the engine or the firmware first


def _wait_matched(peer: Peer, publisher, node) -> None:
    def matched() -> bool:
        if node.poll() is not None:
            raise AssertionError(f"the node exited with {node.returncode}: {node.stderr.read()[-800:]}")
        return publisher.get_subscription_count() > 0

    peer.spin_until(matched, START_S, "the node's subscription")


def _dequantized(model: Path, target: str, x: np.ndarray) -> np.ndarray:
    """What edgeq run gives for ``x`` on ``target``, dequantized: the node must publish exactly this."""
    spec = model_outputs(read_model(model.read_bytes()))[0]
    return spec.dequantize(run(model, target, [x]).outputs[0]).reshape(len(x), -1)


@pytest.mark.parametrize(("target", "input_type"), [("host", "float32"), ("host-c", "int8"), ("host-tflm", "float32")])
def test_every_input_gets_the_outputs_of_edgeq_run(ros_env, peer, target, input_type):
    rng = np.random.default_rng(5)
    n = 8
    spec = model_inputs(read_model(KWS.read_bytes()))[0]
    if input_type == "int8":
        x = rng.integers(-128, 128, (n, *spec.sample_shape)).astype(np.int8)
        msg_type, values = Int8MultiArray, x
    else:
        x = rng.normal(0, 2, (n, *spec.sample_shape)).astype(np.float32)
        msg_type, values = Float32MultiArray, x
    results, top1 = peer.listen(Float32MultiArray, "/edgeq/output"), peer.listen(Int32, "/edgeq/output/top1")
    pub = peer.publisher(msg_type, "/edgeq/input")
    node = start_node(ros_env, str(KWS), "--target", target, "--input-type", input_type, "--qos", "reliable", "--json")
    try:
        _wait_matched(peer, pub, node)
        for sample in values:
            pub.publish(msg_type(data=sample.reshape(-1).tolist()))
        peer.spin_until(lambda: len(results) >= n and len(top1) >= n, 60, f"{n} results")
    finally:
        out, err = stop(node)
    expected = _dequantized(KWS, target, x)
    got = np.array([r.data for r in results], np.float32)
    np.testing.assert_array_equal(got, expected)
    assert [t.data for t in top1] == expected.argmax(1).tolist()
    assert results[0].layout.dim[0].size == 12
    summary = json.loads(out)
    assert node.returncode == 0, err
    assert (summary["received"], summary["processed"], summary["dropped"], summary["malformed"]) == (n, n, 0, 0)
    assert summary["inference_ms"]["p99"] > 0


def _image(pixels: np.ndarray, encoding: str, stamp: int) -> Image:
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    msg = Image(height=height, width=width, encoding=encoding, step=width * channels, data=pixels.tobytes())
    msg.header = Header(frame_id="camera")
    msg.header.stamp.sec = stamp
    return msg


def test_images_are_resized_and_normalised_like_image_folders(ros_env, peer, tmp_path):
    """rgb8, bgr8 and mono8 frames of another size give the outputs of the same pictures as an image folder."""
    rng = np.random.default_rng(8)
    rgb = rng.integers(0, 256, (3, 60, 80, 3), dtype=np.uint8)
    frames = [
        _image(rgb[0], "rgb8", 10),
        _image(np.ascontiguousarray(rgb[1][:, :, ::-1]), "bgr8", 11),
        _image(rgb[2][:, :, 0].copy(), "mono8", 12),
    ]
    files = []
    for k, picture in enumerate((rgb[0], rgb[1], rgb[2][:, :, 0])):
        files.append(tmp_path / f"{k}.png")
        PILImage.fromarray(picture).save(files[-1])
    spec = model_inputs(read_model(VWW.read_bytes()))[0]
    real = load_images(files, DataSpec("x", (None, *spec.sample_shape), "float32"), 1 / 255, -0.5)
    expected = _dequantized(VWW, "host", spec.quantize(real))

    results, headers = peer.listen(Float32MultiArray, "/cam/out"), peer.listen(Header, "/cam/out/header")
    pub = peer.publisher(Image, "/cam/image", qos_profile_sensor_data)
    node = start_node(
        ros_env, str(VWW), "--input-type", "image", "--input-topic", "/cam/image", "--output-topic", "/cam/out",
        "--offset", "-0.5", "--json",
    )  # fmt: skip
    try:
        _wait_matched(peer, pub, node)
        _warm_up(peer, pub, _image(np.zeros((60, 80), np.uint8), "mono8", 1), results)
        del results[:], headers[:]
        for frame in frames:  # sensor QoS: the newest frame wins, so wait for each result
            count = len(results)
            pub.publish(frame)
            peer.spin_until(lambda: len(results) > count and len(headers) > count, 30, "a result")  # noqa: B023
    finally:
        stop(node)
    np.testing.assert_array_equal(np.array([r.data for r in results], np.float32), expected)
    assert [(h.stamp.sec, h.frame_id) for h in headers] == [(10, "camera"), (11, "camera"), (12, "camera")]


def _warm_up(peer: Peer, pub, msg, results: list) -> None:
    """Best effort drops what a publisher sends before the subscriber has matched it too: send until one arrives."""

    def answered() -> bool:
        if not results:
            pub.publish(msg)
        return bool(results)

    peer.spin_until(answered, 30, "a first result")
    settle = time.monotonic() + 1.0  # answers to the other warm-up copies
    peer.spin_until(lambda: time.monotonic() > settle, 5, "the warm-up's stray results")


def test_malformed_inputs_are_counted_skipped_and_reported(ros_env, peer):
    """Wrong size, NaN and an unknown image encoding never stop the node; /diagnostics counts them."""
    diagnostics = peer.listen(DiagnosticArray, "/diagnostics")
    results = peer.listen(Float32MultiArray, "/edgeq/output")
    floats = peer.publisher(Float32MultiArray, "/edgeq/input")
    node = start_node(ros_env, str(KWS), "--qos", "reliable", "--deadline-ms", "0.000001", "--json")
    try:
        _wait_matched(peer, floats, node)
        floats.publish(Float32MultiArray(data=[1.0, 2.0]))
        bad = np.zeros(490, np.float32)
        bad[7] = np.nan
        floats.publish(Float32MultiArray(data=bad.tolist()))
        floats.publish(Float32MultiArray(data=np.zeros(490, np.float32).tolist()))
        peer.spin_until(lambda: len(results) == 1, 30, "the good input's result")

        def reported() -> bool:
            values = _values(diagnostics[-1]) if diagnostics else {}
            return values.get("malformed") == "2" and values.get("processed") == "1"

        peer.spin_until(reported, 10, "diagnostics counting the malformed inputs")
    finally:
        out, err = stop(node)
    status = diagnostics[-1].status[0]
    values = _values(diagnostics[-1])
    assert status.level == DiagnosticStatus.WARN and "deadline" in status.message
    assert values["deadline_misses"] == "1" and values["target"] == "host"
    assert float(values["inference_p99_ms"]) > 0 and "wall clock" in values["inference_source"]
    assert "2 values, but the model's inputs take 490" in err and "NaN" in err
    assert json.loads(out)["malformed"] == 2


def _values(array: DiagnosticArray) -> dict[str, str]:
    return {kv.key: kv.value for kv in array.status[0].values}


def _children(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_node_on_an_emulated_board_stops_qemu_on_sigterm(ros_env, peer):
    x = np.random.default_rng(9).integers(-128, 128, (2, 49, 10, 1)).astype(np.int8)
    results = peer.listen(Float32MultiArray, "/edgeq/output")
    pub = peer.publisher(Int8MultiArray, "/edgeq/input")
    node = start_node(ros_env, str(KWS), "--target", "qemu-m4", "--input-type", "int8", "--qos", "reliable", "--json")
    try:
        _wait_matched(peer, pub, node)
        qemu = [p for p in _children(node.pid) if "qemu" in Path(f"/proc/{p}/cmdline").read_bytes().decode()]
        assert qemu, "the node started no QEMU"
        for sample in x:
            pub.publish(Int8MultiArray(data=sample.reshape(-1).tolist()))
        peer.spin_until(lambda: len(results) == 2, 60, "2 results from the emulated board")
    finally:
        out, err = stop(node, signal.SIGTERM)
    assert node.returncode == 0, err
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in qemu) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in qemu), "QEMU outlived the node"
    np.testing.assert_array_equal(np.array([r.data for r in results], np.float32), _dequantized(KWS, "qemu-m4", x))
    summary = json.loads(out)
    assert summary["processed"] == 2 and "stopped by SIGTERM" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--input-topic", "bad topic"), "is not a ROS topic name"),
        (("--deadline-ms", "nan"), "not a finite number"),
        (("--target", "host", "--port", "/dev/ttyACM0"), "takes no --port option"),
        (("--target", "nowhere"), "unknown target"),
    ],
)
def test_bad_options_are_refused_before_the_node_starts(cli, args, message):
    result = cli("ros2", "run", str(KWS), *args)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_model_that_cannot_take_images_is_refused(cli):
    result = cli("ros2", "run", str(FIXTURES / "zoo" / "ad_autoencoder" / "int8.tflite"), "--input-type", "image")
    assert result.exit_code == 2 and "needs one NHWC input with 1 or 3 channels" in result.stderr
