"""Frames from a ROS 2 topic (``--input ros2:TOPIC``), decoded as ``edgeq ros2 run`` decodes its input.

rclpy is imported when the source opens. The subscription keeps the newest
message only (sensor-data QoS): a message replaced by a newer one before the
loop took it counts as skipped, so the model always sees the latest frame. A
message that does not fit the model (:class:`edgeq.ros2.messages.MalformedMessage`)
is counted as malformed, logged once, and the loop goes on.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from edgeq.errors import UsageError
from edgeq.log import logger
from edgeq.model import Graph
from edgeq.ros2.messages import Decoder, MalformedMessage, message_class
from edgeq.ros2.node import require_rclpy, ros_context

PREFIX = "ros2:"


class Ros2Topic:
    """A :class:`edgeq.mavlink.sources.Source` on one ROS 2 topic."""

    paced = False

    def __init__(self, graph: Graph, topic: str, kind: str, scale: float = 1.0, offset: float = 0.0) -> None:
        self.topic = topic if topic.startswith("/") else "/" + topic
        self.decoder = Decoder(graph, kind, scale, offset)  # UsageError when the model cannot take this kind
        self.kind = kind
        self.describe = f"ROS 2 topic {self.topic} ({kind})"
        self.skipped = self.malformed = 0
        self.latest: Any = None
        self._stack = contextlib.ExitStack()
        self.node: Any = None
        self.executor: Any = None

    def open(self) -> None:
        """Initialise rclpy and subscribe (after every option was checked)."""
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import qos_profile_sensor_data

        context = self._stack.enter_context(ros_context([]))
        import rclpy

        self.node = rclpy.create_node("edgeq_mavlink", context=context)
        self._stack.callback(self.node.destroy_node)
        self.node.create_subscription(message_class(self.kind), self.topic, self._on_message, qos_profile_sensor_data)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self._stack.callback(self.executor.shutdown)

    def _on_message(self, msg: Any) -> None:
        if self.latest is not None:
            self.skipped += 1
        self.latest = msg

    def poll(self, timeout: float) -> list[np.ndarray] | None:
        if self.latest is None:
            self.executor.spin_once(timeout_sec=timeout)
        msg, self.latest = self.latest, None
        if msg is None:
            return None
        try:
            return self.decoder.decode(msg)
        except MalformedMessage as exc:
            self.malformed += 1
            if self.malformed == 1:
                logger.warning("%s: a message does not fit the model (%s); skipping such messages", self.topic, exc)
            return None

    def skip(self, count: int) -> None:
        pass

    def close(self) -> None:
        self._stack.close()


def open_topic(graph: Graph, spec: str, kind: str, scale: float, offset: float) -> Ros2Topic:
    """The source for ``--input ros2:TOPIC``: checked (topic name, message kind against the model), then subscribed."""
    topic = spec[len(PREFIX) :]
    require_rclpy()
    from rclpy.validate_full_topic_name import validate_full_topic_name

    try:
        validate_full_topic_name(topic if topic.startswith("/") else "/" + topic)
    except Exception as exc:  # rclpy's InvalidTopicNameException carries the reason
        raise UsageError(f"--input {spec!r}: {topic!r} is not a ROS topic name ({exc}); give ros2:/TOPIC") from None
    return Ros2Topic(graph, topic, kind, scale, offset)
