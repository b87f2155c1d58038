"""``edgeq ros2 run``: serve a model as a ROS 2 node on any target until Ctrl-C or SIGTERM."""

from __future__ import annotations

import click

from edgeq.cli.common import Number, edgeq_errors, json_option, port_options, print_json


@click.command(
    "run",
    context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]},
)
@click.argument("model", type=click.Path())
@click.option(
    "--target", default="host", show_default=True, help="Where the model runs: any edgeq target (see edgeq run)."
)
@click.option("--input-topic", default="/edgeq/input", show_default=True, help="Topic the inputs arrive on.")
@click.option("--output-topic", default="/edgeq/output", show_default=True, help="Topic the results go to.")
@click.option(
    "--input-type",
    type=click.Choice(["float32", "int8", "image"]),
    default="float32",
    show_default=True,
    help="Message type of the inputs: std_msgs/Float32MultiArray (real values), std_msgs/Int8MultiArray "
    "(quantized values) or sensor_msgs/Image (mono8, rgb8, bgr8).",
)
@click.option(
    "--qos",
    type=click.Choice(["sensor", "reliable"]),
    default="sensor",
    show_default=True,
    help="sensor: best effort, the newest input wins; reliable: every input is delivered and processed in order.",
)
@click.option(
    "--deadline-ms",
    type=Number(float, low=0, low_open=True),
    help="Count inputs whose time in the node exceeds this; /diagnostics warns when its p99 does.",
)
@click.option("--node-name", default="edgeq", show_default=True, help="The ROS node's name.")
@click.option("--scale", type=Number(float), default=1.0 / 255.0, show_default="1/255", help="Images: pixel * scale.")
@click.option("--offset", type=Number(float), default=0.0, show_default=True, help="Images: ... + offset.")
@click.option(
    "--timing",
    is_flag=True,
    help="Also publish OUTPUT_TOPIC/timing (std_msgs/Float64MultiArray) after every result: "
    "[inference ms, wall ms of the inference call, node overhead ms].",
)
@port_options
@json_option
@click.argument("ros_args", nargs=-1, type=click.UNPROCESSED)
@edgeq_errors
def command(
    model, target, input_topic, output_topic, input_type, qos, deadline_ms, node_name, scale, offset, timing, **rest
):
    """Serve MODEL as a ROS 2 node: inputs on --input-topic, dequantized outputs on --output-topic.

    Options are also ROS parameters; ROS arguments go last: ... --ros-args -p deadline_ms:=5.0.
    Stop it with Ctrl-C or SIGTERM; it prints what it did.
    """
    from edgeq.cli.views.ros2 import render_summary
    from edgeq.model import read_model
    from edgeq.model.reader import read_bytes
    from edgeq.ros2.node import NodeOptions, require_rclpy, run_node
    from edgeq.targets import capabilities

    as_json, ros_args = rest.pop("as_json"), list(rest.pop("ros_args"))
    capabilities(target).check_options(target, {k for k, v in rest.items() if v is not None})
    options = NodeOptions(input_topic, output_topic, input_type, qos, deadline_ms or 0.0, scale, offset, timing)
    data = read_bytes(model)
    graph = read_model(data, name=str(model))
    require_rclpy()
    options.check()
    click.echo(f"starting node {node_name} on {target} (Ctrl-C stops it)", err=True)
    snapshot, source = run_node(
        data, graph, target, options, node_name=node_name, target_options=rest, ros_args=ros_args
    )
    summary = {
        "model": str(model),
        "target": target,
        "node": node_name,
        **snapshot.to_dict(),
        "inference_source": source,
    }
    if as_json:
        print_json(summary)
    else:
        click.echo(render_summary(summary))
