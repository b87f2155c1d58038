"""``edgeq mavlink``: a companion computer running a model and sending its results to an autopilot over MAVLink."""

from __future__ import annotations

from pathlib import Path

import click

from edgeq.cli.common import (
    Number,
    bin_options,
    edgeq_errors,
    image_norm_options,
    json_option,
    port_options,
    print_json,
)
from edgeq.targets import target_names


@click.command("mavlink")
@click.argument("model", type=click.Path())
@click.option(
    "--connection",
    required=True,
    help="The autopilot's MAVLink link: udpout:HOST:PORT (send to an autopilot or router listening there), "
    "udpin:HOST:PORT (listen), tcp:HOST:PORT, tcpin:HOST:PORT, or a serial device /dev/ttyX[,BAUD] (default 115200).",
)
@click.option(
    "--input",
    "input_spec",
    required=True,
    help="Frames: an .npy file (N, *input_shape; real or quantized values), a folder of .bin files (MLPerf Tiny), "
    "'-' for raw frames on stdin (the model's input bytes of one sample each, back to back), or ros2:TOPIC.",
)
@click.option("--target", default="host", show_default=True, help=f"Where the model runs: {', '.join(target_names())}.")
@click.option(
    "--rate", type=Number(float, low=0, low_open=True, high=1000), default=10.0, show_default=True,
    help="Frames per second at most; replay files are played at this rate.",
)  # fmt: skip
@click.option("--loop", is_flag=True, help="Replay the --input file again from the start when it ends.")
@click.option("--count", type=Number(int, low=1), help="Stop after this many frames.")
@click.option("--duration", type=Number(float, low=0, low_open=True), help="Stop after this many seconds.")
@click.option(
    "--wait-s", type=Number(float, low=0), default=10.0, show_default=True,
    help="Wait this long for the autopilot's first heartbeat (then run anyway, counting results as undelivered).",
)  # fmt: skip
@click.option(
    "--message", "encoding", type=click.Choice(["named", "array", "landing"]), default="named", show_default=True,
    help="named: one NAMED_VALUE_FLOAT per output value; array: DEBUG_FLOAT_ARRAY per output (58 floats a "
    "message); landing: LANDING_TARGET angles from two output values (--landing-map, --fov-deg).",
)  # fmt: skip
@click.option(
    "--name-prefix", default="eq", show_default=True,
    help="Names: PREFIX + value number (named) or output number (array); at most 10 characters in all.",
)  # fmt: skip
@click.option(
    "--landing-map", default="x=0,y=1", show_default=True,
    help="x=I,y=J[,distance=K][,scale=S][,offset=O]: output values I and J (times S plus O) are the target's "
    "angles in radians, or image coordinates in [-1, 1] with --fov-deg; K is its distance in metres.",
)  # fmt: skip
@click.option(
    "--fov-deg",
    help="H,V: the camera's field of view in degrees; --landing-map values are then image coordinates in [-1, 1].",
)
@click.option(
    "--sysid",
    type=Number(int, low=1, high=255),
    default=1,
    show_default=True,
    help="Our MAVLink system id (the vehicle's).",
)
@click.option(
    "--compid", type=Number(int, low=1, high=255), default=191, show_default=True,
    help="Our MAVLink component id (191: MAV_COMP_ID_ONBOARD_COMPUTER).",
)  # fmt: skip
@click.option(
    "--ros2-type", type=click.Choice(["float32", "int8", "image"]), default="float32", show_default=True,
    help="ros2:TOPIC inputs: Float32MultiArray (real values), Int8MultiArray (quantized) or Image.",
)  # fmt: skip
@image_norm_options
@bin_options
@port_options
@json_option
@edgeq_errors
def command(model, connection, input_spec, target, rate, loop, count, duration, wait_s, encoding, name_prefix,
            landing_map, fov_deg, sysid, compid, ros2_type, scale, offset, bin_dtype, bin_scale, bin_zero_point,
            port, baud, via, as_json):  # fmt: skip
    """Run MODEL on --target for every frame of --input and send the results to the autopilot on --connection.

    Sends a 1 Hz HEARTBEAT as an onboard controller, follows the autopilot's
    heartbeat (lost after 3 s without one; inference goes on, results count as
    undelivered), and prints a one-line summary at the end (Ctrl-C, SIGTERM,
    --count, --duration or the end of the input).
    """
    from edgeq.mavlink.companion import Settings, run_companion
    from edgeq.mavlink.link import parse_connection
    from edgeq.mavlink.messages import Encoder, parse_landing_map
    from edgeq.model import read_model
    from edgeq.model.io import model_outputs
    from edgeq.model.reader import read_bytes
    from edgeq.targets import capabilities

    endpoint = parse_connection(connection)
    landing = parse_landing_map(landing_map, fov_deg)
    options = {k: v for k, v in {"port": port, "baud": baud, "via": via}.items() if v is not None}
    capabilities(target).check_options(target, options)
    data = read_bytes(model)
    graph = read_model(data, name=str(model))
    outputs = model_outputs(graph)
    encoder = Encoder(encoding, [o.elements for o in outputs], name_prefix, landing)
    source = _source(graph, input_spec, loop, ros2_type, scale, offset, (bin_dtype, bin_scale, bin_zero_point))
    settings = Settings(rate, count, duration, wait_s, sysid, compid)
    stats = run_companion(data, target, options, endpoint, source, encoder, outputs, settings)
    if as_json:
        print_json(
            {"model": str(model), "target": target, "input": source.describe, "message": encoding, **stats.to_dict()}
        )
    else:
        click.echo(stats.summary())


def _source(graph, spec: str, loop: bool, ros2_type: str, scale: float, offset: float, bins: tuple):
    """The frame source of --input, checked against the model before anything opens."""
    import sys

    from edgeq.data.binfiles import bin_format
    from edgeq.errors import UsageError
    from edgeq.mavlink.ros2_source import PREFIX, open_topic
    from edgeq.mavlink.sources import Stdin, open_replay

    fmt = bin_format(*bins)
    if spec.startswith(PREFIX):
        return open_topic(graph, spec, ros2_type, scale, offset)
    if loop and spec == "-":
        raise UsageError("--loop replays a file; stdin cannot be replayed, drop --loop or give a file")
    if spec == "-":
        return Stdin(graph, sys.stdin.buffer)
    if fmt is not None and not Path(spec).is_dir():
        raise UsageError(f"--bin-dtype reads the .bin files of a folder; {spec} is not one")
    return open_replay(graph, Path(spec), loop, fmt)
