"""``edgeq ros2 run``: a model as a ROS 2 node, running on any edgeq target.

Threads: the main thread spins the executor (subscription, diagnostics timer);
the subscription only stamps an input and queues it; one worker thread
decodes, runs the model through an :func:`edgeq.streaming.open_session` and
publishes. With ``--qos sensor`` the queue holds one input (a newer input
replaces one still waiting, counted as dropped: a robot wants the latest
frame); with ``--qos reliable`` it holds QUEUE_RELIABLE, so a node that keeps
up on average drops nothing.

The options are also ROS parameters (read once at start; ``--ros-args -p
deadline_ms:=5.0`` overrides). Ctrl-C and SIGTERM stop the node, the worker and
whatever the target started (QEMU, the serial port) before edgeq exits.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from edgeq.errors import DependencyError, DeviceError, EdgeqError, UsageError
from edgeq.model import Graph
from edgeq.procs import Terminated
from edgeq.ros2.messages import INPUT_TYPES, Decoder, MalformedMessage, classifier, message_class, result_message
from edgeq.ros2.stats import NodeStats, Snapshot
from edgeq.streaming import open_session

log = logging.getLogger(__name__)

QOS = ("sensor", "reliable")
QUEUE_RELIABLE = 1000
PUBLISH_DEPTH = 100
DIAGNOSTICS_S = 1.0


@dataclass(frozen=True)
class NodeOptions:
    """What ``edgeq ros2 run`` takes; every field is also a ROS parameter of the same name."""

    input_topic: str = "/edgeq/input"
    output_topic: str = "/edgeq/output"
    input_type: str = "float32"
    qos: str = "sensor"
    deadline_ms: float = 0.0  # 0: no deadline
    scale: float = 1.0 / 255.0
    offset: float = 0.0
    publish_timing: bool = False  # OUTPUT_TOPIC/timing after every result

    def check(self) -> None:
        """UsageError naming the first bad value (before any work starts)."""
        if self.input_type not in INPUT_TYPES:
            raise UsageError(f"input type {self.input_type!r} is unknown; use one of {', '.join(INPUT_TYPES)}")
        if self.qos not in QOS:
            raise UsageError(f"qos {self.qos!r} is unknown; use sensor or reliable")
        if not math.isfinite(self.deadline_ms) or self.deadline_ms < 0:
            raise UsageError(f"deadline {self.deadline_ms} ms is not a time; give milliseconds > 0 (0: none)")
        for name in ("scale", "offset"):
            if not math.isfinite(getattr(self, name)):
                raise UsageError(f"--{name} {getattr(self, name)} is not a finite number")
        for name in ("input_topic", "output_topic"):
            _check_topic(getattr(self, name), name)


def _check_topic(topic: str, name: str) -> None:
    from rclpy.validate_full_topic_name import validate_full_topic_name

    try:
        validate_full_topic_name(topic if topic.startswith("/") else "/" + topic)
    except Exception as exc:  # rclpy raises its own InvalidTopicNameException with the reason
        raise UsageError(f"--{name.replace('_', '-')} {topic!r} is not a ROS topic name: {exc}") from None


def require_rclpy() -> Any:
    """rclpy, or a DependencyError saying how to install it."""
    try:
        import rclpy
        import std_msgs.msg  # noqa: F401
    except ImportError as exc:
        raise DependencyError(f"ROS 2 is not installed ({exc}); pip install 'edgeq[ros2]'") from None
    return rclpy


@dataclass
class Input:
    msg: Any
    received: float  # perf_counter seconds


class ModelNode:
    """The rclpy node: subscription, publishers, diagnostics, and the worker that runs the model."""

    def __init__(self, node: Any, graph: Graph, options: NodeOptions, session: Any, target: str) -> None:
        from diagnostic_msgs.msg import DiagnosticArray
        from std_msgs.msg import Float64MultiArray, Header, Int32

        self.node, self.graph, self.options, self.session, self.target = node, graph, options, session, target
        self.decoder = Decoder(graph, options.input_type, options.scale, options.offset)
        self.stats = NodeStats(options.deadline_ms or None)
        self.queue: collections.deque[Input] = collections.deque()
        self.limit = 1 if options.qos == "sensor" else QUEUE_RELIABLE
        self.ready = threading.Condition()
        self.stopping = False
        self.error: BaseException | None = None
        out = options.output_topic
        self.result = node.create_publisher(message_class("float32"), out, PUBLISH_DEPTH)
        self.int32 = Int32
        self.top1 = node.create_publisher(Int32, f"{out}/top1", PUBLISH_DEPTH) if classifier(graph) else None
        self.header = node.create_publisher(Header, f"{out}/header", PUBLISH_DEPTH)
        self.timing = node.create_publisher(Float64MultiArray, f"{out}/timing", PUBLISH_DEPTH)
        self.float64 = Float64MultiArray
        self.diagnostics = node.create_publisher(DiagnosticArray, "/diagnostics", 10)
        node.create_subscription(message_class(options.input_type), options.input_topic, self.on_input, _qos(options))
        node.create_timer(DIAGNOSTICS_S, self.publish_diagnostics)
        self.worker = threading.Thread(target=self.work, name="edgeq-ros2-worker", daemon=True)

    def on_input(self, msg: Any) -> None:
        """Subscription callback: stamp and queue; the oldest waiting input goes when the queue is full."""
        item = Input(msg, time.perf_counter())
        self.stats.count("received")
        with self.ready:
            if len(self.queue) >= self.limit:
                self.queue.popleft()
                self.stats.count("dropped")
            self.queue.append(item)
            self.ready.notify()

    def work(self) -> None:
        try:
            while True:
                with self.ready:
                    self.ready.wait_for(lambda: self.queue or self.stopping)
                    if self.stopping:
                        return
                    item = self.queue.popleft()
                self.process(item)
        except BaseException as exc:  # a board that stopped answering ends the node; the main thread re-raises
            self.error = exc

    def process(self, item: Input) -> None:
        try:
            sample = self.decoder.decode(item.msg)
        except MalformedMessage as exc:
            self.stats.count("malformed")
            self.node.get_logger().warning(f"skipped a malformed input on {self.options.input_topic}: {exc}")
            return
        start = time.perf_counter()
        try:
            inference = self.session.infer(sample)
        except DeviceError:
            raise  # the board or emulator stopped answering: nothing more can run
        except EdgeqError as exc:
            self.stats.count("failed")
            self.node.get_logger().error(f"inference failed on {self.target}: {exc}")
            return
        wall = time.perf_counter() - start
        msg, values = result_message(self.graph, inference.outputs)
        stamped = getattr(item.msg, "header", None)
        if stamped is not None:
            self.header.publish(stamped)
        self.result.publish(msg)
        if self.top1 is not None:
            self.top1.publish(self.int32(data=int(values.argmax())))
        overhead_ms = (time.perf_counter() - item.received - wall) * 1e3
        self.stats.processed(inference.ms, overhead_ms)
        if self.options.publish_timing:
            self.timing.publish(self.float64(data=[inference.ms, wall * 1e3, overhead_ms]))

    def publish_diagnostics(self) -> None:
        self.diagnostics.publish(diagnostics(self.node, self.stats.snapshot(), self))

    def stop(self) -> None:
        with self.ready:
            self.stopping = True
            self.ready.notify()
        if self.worker.is_alive():
            self.worker.join()


def _qos(options: NodeOptions) -> Any:
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

    if options.qos == "sensor":
        return qos_profile_sensor_data
    return QoSProfile(depth=PUBLISH_DEPTH, reliability=ReliabilityPolicy.RELIABLE)


def diagnostics(node: Any, snap: Snapshot, model: ModelNode) -> Any:
    """The DiagnosticArray of one snapshot: WARN when the p99 time in the node exceeds the deadline."""
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    deadline = model.options.deadline_ms
    level, message = DiagnosticStatus.OK, "ok"
    if snap.processed == 0:
        message = "waiting for inputs"
    if deadline and snap.latency_ms is not None and snap.latency_ms[1] > deadline:
        level = DiagnosticStatus.WARN
        message = f"p99 {snap.latency_ms[1]:.3f} ms in the node exceeds the {deadline:g} ms deadline"
    values = {
        "target": model.target,
        "inference_source": model.session.source,
        "deadline_ms": f"{deadline:g}" if deadline else "none",
    }
    for name in ("inference_ms", "overhead_ms", "latency_ms"):
        pair = getattr(snap, name)
        for k, v in zip(("p50", "p99"), pair or (None, None)):
            values[f"{name.removesuffix('_ms')}_{k}_ms"] = "-" if v is None else f"{v:.4f}"
    for name in ("received", "processed", "dropped", "malformed", "failed", "deadline_misses"):
        values[name] = str(getattr(snap, name))
    status = DiagnosticStatus(
        level=level,
        name=f"{node.get_name()}: model",
        message=message,
        hardware_id=model.target,
        values=[KeyValue(key=k, value=v) for k, v in values.items()],
    )
    array = DiagnosticArray(status=[status])
    array.header.stamp = node.get_clock().now().to_msg()
    return array


def declared(node: Any, options: NodeOptions) -> NodeOptions:
    """``options`` as the defaults of ROS parameters of the same names, read back (``-p`` overrides them)."""
    values = {}
    for name in NodeOptions.__dataclass_fields__:
        default = getattr(options, name)
        values[name] = node.declare_parameter(name, default).value
        if isinstance(default, float) and not isinstance(default, bool):
            values[name] = float(values[name])
    return replace(options, **values)


@contextlib.contextmanager
def ros_context(ros_args: list[str]) -> Iterator[Any]:
    """rclpy initialised with edgeq's own signal handling (Ctrl-C and SIGTERM unwind through the node's cleanup)."""
    rclpy = require_rclpy()
    from rclpy.signals import SignalHandlerOptions

    context = rclpy.Context()
    rclpy.init(args=["edgeq", *ros_args], context=context, signal_handler_options=SignalHandlerOptions.NO)
    try:
        yield context
    finally:
        if context.ok():
            context.try_shutdown()


def run_node(
    model: bytes,
    graph: Graph,
    target: str,
    options: NodeOptions,
    *,
    node_name: str = "edgeq",
    target_options: dict[str, object] | None = None,
    ros_args: list[str] | None = None,
    on_ready: Any = None,
) -> tuple[Snapshot, str]:
    """Run the node until Ctrl-C or SIGTERM (raised as exceptions by the CLI).

    Returns the last snapshot of its counters and how its inference times were obtained.
    """
    options.check()
    Decoder(graph, options.input_type, options.scale, options.offset)  # the model takes this input type
    with ros_context(ros_args or []) as context:
        import rclpy

        node = rclpy.create_node(node_name, context=context)
        try:
            options = declared(node, options)
            options.check()
            with open_session(model, target, **(target_options or {})) as session:
                return _spin(node, ModelNode(node, graph, options, session, target), context, on_ready), session.source
        finally:
            node.destroy_node()


def _spin(node: Any, model: ModelNode, context: Any, on_ready: Any) -> Snapshot:
    from rclpy.executors import SingleThreadedExecutor

    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    model.worker.start()
    log.info("node %s runs the model on %s: %s -> %s", node.get_name(), model.target, *_topics(model.options))
    if on_ready is not None:
        on_ready(model)
    try:
        while context.ok() and model.error is None:
            executor.spin_once(timeout_sec=0.1)
        if model.error is not None:
            raise model.error
    except (KeyboardInterrupt, Terminated) as exc:  # the usual way to stop a node: a summary, exit 0
        log.info("node %s stopped by %s", node.get_name(), getattr(exc, "name", "SIGINT"))
    finally:
        model.stop()
        executor.shutdown()
    return model.stats.snapshot()


def _topics(options: NodeOptions) -> tuple[str, str]:
    return options.input_topic, options.output_topic
