"""What an edgeq ROS 2 node adds to inference; writes docs/benchmarks-ros2.md and .json.

Real ROS 2 (rclpy, Fast DDS) on this machine only: the node (``edgeq ros2 run``,
a child process) and this script's publisher/subscriber talk over UDPv4 on
127.0.0.1 (edgeq/ros2/fastdds_loopback.xml), in a DDS domain of their own.
For the KWS-sized and the VWW-sized zoo models, on the host target (LiteRT) and
the compiled engine (host-c):

- end-to-end latency: publish -> result received in this process, per input,
  minus that input's inference call (the node publishes [inference ms, wall ms
  of the call, node overhead ms] on OUTPUT/timing with --timing), p50/p99, at
  30 Hz images (sensor_msgs/Image rgb8 640x480 -> resized in the node) and
  200 Hz arrays (std_msgs/Float32MultiArray of the model's input size);
- inputs dropped at 100 Hz with --qos reliable (goal: none): sent vs results;
- the node against bare inference: in-node time p50 / the same session's
  inference p50 in this process (edgeq.streaming, no ROS).

Usage: ``python scripts/bench_ros2.py [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "tests" / "fixtures" / "zoo"
MODELS = {
    "KWS-sized (kws_dscnn)": ZOO / "kws_dscnn" / "int8.tflite",
    "VWW-sized (vww_mobilenet)": ZOO / "vww_mobilenet" / "int8.tflite",
}
PROFILE = ROOT / "edgeq" / "ros2" / "fastdds_loopback.xml"
# Fast DDS's default shared-memory segment (512 KiB) cannot hold a 0.9 MB frame, which then goes by UDP.
SHM_SEGMENT_BYTES = 8 * 1024 * 1024
# The same, plus Fast DDS's shared-memory transport (what nodes on one machine use by default).
SHM_PROFILE = (
    PROFILE.read_text()
    .replace("<userTransports>", "<userTransports>\n        <transport_id>edgeq_shm</transport_id>")
    .replace(
        "</transport_descriptors>",
        "  <transport_descriptor>\n      <transport_id>edgeq_shm</transport_id>\n      <type>SHM</type>\n"
        "    </transport_descriptor>\n  </transport_descriptors>",
    )
)
os.environ.pop("ROS_AUTOMATIC_DISCOVERY_RANGE", None)
DOMAIN = 150 + os.getpid() % 50
RATES = (("image", 30.0), ("array", 200.0), ("array", 100.0))


class Peer:
    """This script's node: publishes inputs at a rate from a thread, stamps results and timings as they arrive."""

    def __init__(self, context, msg_type) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from std_msgs.msg import Float32MultiArray, Float64MultiArray

        self.node = rclpy.create_node("edgeq_bench", context=context)
        self.results: list[float] = []
        self.timings: list[list[float]] = []
        self.node.create_subscription(
            Float32MultiArray, "/bench/out", lambda m: self.results.append(time.perf_counter()), 1000
        )
        self.node.create_subscription(
            Float64MultiArray, "/bench/out/timing", lambda m: self.timings.append(list(m.data)), 1000
        )
        self.pub = self.node.create_publisher(msg_type, "/bench/in", 1000)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)

    def spin_until(self, done, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while not done() and time.monotonic() < end:
            self.executor.spin_once(timeout_sec=0.02)
        return done()

    def play(self, messages: list, hz: float) -> list[float]:
        """Publish ``messages`` at ``hz`` from a thread while this thread spins; the send times."""
        sent: list[float] = []

        def publish() -> None:
            start = time.perf_counter()
            for k, msg in enumerate(messages):
                delay = start + k / hz - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                sent.append(time.perf_counter())
                self.pub.publish(msg)

        thread = threading.Thread(target=publish)
        thread.start()
        while thread.is_alive():
            self.executor.spin_once(timeout_sec=0.01)
        thread.join()
        self.spin_until(lambda: len(self.results) >= len(messages) and len(self.timings) >= len(messages), 10)
        return sent


def messages(model: Path, kind: str, count: int) -> tuple[object, list]:
    from sensor_msgs.msg import Image
    from std_msgs.msg import Float32MultiArray

    from edgeq.model import read_model
    from edgeq.model.io import model_inputs

    rng = np.random.default_rng(1)
    if kind == "image":
        frames = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8).tobytes() for _ in range(4)]
        return Image, [
            Image(height=480, width=640, encoding="rgb8", step=640 * 3, data=frames[k % 4]) for k in range(count)
        ]
    spec = model_inputs(read_model(model.read_bytes()))[0]
    values = [rng.normal(0, 1, spec.elements).astype(np.float32).tolist() for _ in range(4)]
    return Float32MultiArray, [Float32MultiArray(data=values[k % 4]) for k in range(count)]


# A plain rclpy node with the same topics and QoS as the edgeq node that answers every input with 12 zeros:
# what ROS 2 alone costs for these messages on this machine.
ECHO = """
import signal, sys, rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Float32MultiArray, Float64MultiArray
rclpy.init()
node = rclpy.create_node("echo")
out = node.create_publisher(Float32MultiArray, "/bench/out", 100)
timing = node.create_publisher(Float64MultiArray, "/bench/out/timing", 100)
def answer(msg):
    out.publish(Float32MultiArray(data=[0.0] * 12))
    timing.publish(Float64MultiArray(data=[0.0, 0.0, 0.0]))
qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
node.create_subscription(Image if sys.argv[1] == "image" else Float32MultiArray, "/bench/in", answer, qos)
signal.signal(signal.SIGINT, lambda *a: rclpy.try_shutdown())
while rclpy.ok():
    rclpy.spin_once(node, timeout_sec=0.1)
"""


def node_run(model: Path, target: str | None, kind: str, hz: float, count: int) -> dict:
    """One node (edgeq's, or the plain echo node when ``target`` is None), ``count`` inputs of ``kind`` at ``hz``."""
    import rclpy

    env = dict(os.environ, ROS_DOMAIN_ID=str(DOMAIN))  # ROS_LOG_DIR: main()'s temporary folder
    args = [sys.executable, "-m", "edgeq", "ros2", "run", str(model), "--target", str(target), "--input-type",
            "image" if kind == "image" else "float32", "--qos", "reliable", "--timing", "--json",
            "--input-topic", "/bench/in", "--output-topic", "/bench/out"]  # fmt: skip
    if target is None:
        args = [sys.executable, "-c", ECHO, kind]
    node = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=DOMAIN)
    try:
        msg_type, msgs = messages(model, kind, count)
        peer = Peer(context, msg_type)
        if not peer.spin_until(lambda: peer.pub.get_subscription_count() > 0, 120):
            raise SystemExit(f"the node did not subscribe: {node.stderr.read() if node.poll() is not None else ''}")
        peer.play(msgs[:20], hz)  # warm-up: discovery, first invokes
        peer.results.clear(), peer.timings.clear()
        sent = peer.play(msgs, hz)
        received, timings = list(peer.results), np.array(peer.timings)
        peer.executor.shutdown()
        peer.node.destroy_node()
    finally:
        context.try_shutdown()
        node.send_signal(signal.SIGINT)
        out, err = node.communicate(timeout=60)
    n = min(len(sent), len(received), len(timings))
    e2e = (np.array(received[:n]) - np.array(sent[:n])) * 1e3
    beyond = e2e - timings[:n, 1]  # minus the wall time of that input's inference call
    figures = {"sent": len(sent), "results": len(received), "lost": len(sent) - len(received), "e2e_ms": pct(e2e)}
    if target is None:
        return figures
    summary = json.loads(out)
    return {
        **figures, "dropped_by_node": summary["dropped"], "e2e_minus_inference_ms": pct(beyond),
        "inference_ms": pct(timings[:n, 0]), "node_overhead_ms": pct(timings[:n, 2]),
    }  # fmt: skip


def pct(values: np.ndarray) -> dict[str, float]:
    p50, p99 = np.percentile(values, [50, 99]) if len(values) else (float("nan"), float("nan"))
    return {"p50": float(p50), "p99": float(p99)}


def bare_inference(model: Path, target: str, runs: int = 300) -> dict[str, float]:
    """The same session as the node's, timed in this process without ROS."""
    from edgeq.model import read_model
    from edgeq.model.io import model_inputs
    from edgeq.streaming import open_session

    data = model.read_bytes()
    spec = model_inputs(read_model(data))[0]
    sample = [spec.quantize(np.random.default_rng(2).normal(0, 1, spec.sample_shape))]
    with open_session(data, target) as session:
        for _ in range(20):
            session.infer(sample)
        return pct(np.array([session.infer(sample).ms for _ in range(runs)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of inputs per run")
    parser.add_argument("--transport", choices=["udp", "shm"], default="udp", help="udp: loopback only; shm: plus SHM")
    args = parser.parse_args()
    if args.transport == "shm":
        profile = Path(f"/tmp/edgeq-bench-shm-{os.getpid()}.xml")
        profile.write_text(SHM_PROFILE)
    os.environ["FASTRTPS_DEFAULT_PROFILES_FILE"] = str(PROFILE if args.transport == "udp" else profile)
    rows = []
    logs = tempfile.TemporaryDirectory(prefix="edgeq-bench-ros-")  # the nodes' ROS logs, removed at the end
    os.environ["ROS_LOG_DIR"] = logs.name
    try:
        kws = next(iter(MODELS.values()))
        echo = {f"{kind}_{hz:g}hz": node_run(kws, None, kind, hz, int(hz * args.seconds)) for kind, hz in RATES[:2]}
        for label, model in MODELS.items():
            for target in ("host", "host-c"):
                rows.append(model_rows(label, model, target, args.seconds))
    finally:
        logs.cleanup()
        if args.transport == "shm":
            profile.unlink()
    name = "benchmarks-ros2" if args.transport == "udp" else "benchmarks-ros2-shm"
    record = {
        "seconds": args.seconds, "transport": args.transport, "plain_rclpy_echo": echo, "rows": rows,
        "python": sys.version.split()[0],
    }  # fmt: skip
    (ROOT / "docs" / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    if args.transport == "udp":
        (ROOT / "docs" / f"{name}.md").write_text(render(record))
    print(render(record))


def model_rows(label: str, model: Path, target: str, seconds: float) -> dict:
    row = {"model": label, "target": target, "bare_inference_ms": bare_inference(model, target)}
    for kind, hz in RATES:
        print(f"{label} on {target}: {kind} at {hz:g} Hz", file=sys.stderr)
        row[f"{kind}_{hz:g}hz"] = node_run(model, target, kind, hz, int(hz * seconds))
    return row


def render(record: dict) -> str:
    lines = [
        "# ROS 2 node benchmark",
        "",
        "Written by `scripts/bench_ros2.py` (one run on this machine; a noisy 2-core VM: read the ratios).",
        "The node (`edgeq ros2 run --qos reliable --timing`) and the benchmark's publisher/subscriber are",
        "separate processes talking real Fast DDS over UDPv4 on 127.0.0.1 (`edgeq/ros2/fastdds_loopback.xml`).",
        f"Each run sends {record['seconds']:g} s of inputs after 20 warm-up inputs.",
        "",
        "- **beyond inference**: publish -> result received, minus that input's inference call",
        "  (the node reports it per result on OUTPUT/timing): what ROS 2 and the node add.",
        "- **in the node**: the node's own time (received -> result published) minus the inference call:",
        "  decoding, resizing, quantizing, the hand-over to the worker thread, building and publishing the result.",
        "- **in the node / bare**: the node's in-node time p50 (its overhead + inference) over the same",
        "  session's inference p50 timed in-process without ROS (`edgeq.streaming`).",
        "- **dropped**: inputs sent at 100 Hz with reliable QoS that got no result (goal: none).",
        "",
        *table(record),
    ]
    shm = ROOT / "docs" / "benchmarks-ros2-shm.json"
    if shm.exists():
        lines += [
            "",
            "The same with Fast DDS's shared-memory transport added to the loopback UDP (what nodes on one",
            f"machine use by default; `--transport shm`, from docs/{shm.name}):",
            "",
            *table(json.loads(shm.read_text())),
        ]
    return "\n".join([*lines, "", NOTES])


def table(record: dict) -> list[str]:
    lines = [
        "| model | target | bare inference p50 ms | images 30 Hz: beyond inference p50 / p99 ms "
        "| of which in the node p50 ms | arrays 200 Hz: beyond inference p50 / p99 ms "
        "| in the node / bare (200 Hz arrays) | dropped at 100 Hz |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in record["rows"]:
        img, arr, rel = row["image_30hz"], row["array_200hz"], row["array_100hz"]
        in_node = arr["inference_ms"]["p50"] + arr["node_overhead_ms"]["p50"]
        lines.append(
            f"| {row['model']} | {row['target']} | {row['bare_inference_ms']['p50']:.3f} "
            f"| {img['e2e_minus_inference_ms']['p50']:.3f} / {img['e2e_minus_inference_ms']['p99']:.3f} "
            f"| {img['node_overhead_ms']['p50']:.3f} "
            f"| {arr['e2e_minus_inference_ms']['p50']:.3f} / {arr['e2e_minus_inference_ms']['p99']:.3f} "
            f"| {in_node / row['bare_inference_ms']['p50']:.2f} "
            f"| {rel['lost']} of {rel['sent']} |"
        )
    echo = record.get("plain_rclpy_echo")
    if echo:
        img, arr = echo["image_30hz"]["e2e_ms"], echo["array_200hz"]["e2e_ms"]
        lines.append(
            f"| plain rclpy echo node (no model) | - | - | {img['p50']:.3f} / {img['p99']:.3f} | - "
            f"| {arr['p50']:.3f} / {arr['p99']:.3f} | - | - |"
        )
    return lines


NOTES = """Images are 640x480 rgb8 frames (0.9 MB): the node converts, resizes (bilinear) and quantizes them.
The last row of each table is a plain rclpy node on the same topics and QoS that answers every input at
once, without a model: what ROS 2 alone costs for the round trip of these messages here. Nearly all of what
an image costs beyond inference is that round trip (moving 0.9 MB through Fast DDS and rclpy), not the node.
The JSON has every figure: the inference p50/p99 inside the node, the node's own overhead, and the
end-to-end latency.
"""


if __name__ == "__main__":
    main()
