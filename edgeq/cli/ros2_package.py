"""``edgeq ros2 package``: a model as an ament_python ROS 2 package for a robot's colcon workspace."""

from __future__ import annotations

import click

from edgeq.cli.common import OutputPath, edgeq_errors, json_option, print_json


@click.command("package")
@click.argument("model", type=click.Path())
@click.option(
    "-o", "--out", "out_dir", required=True, type=OutputPath("folder"), help="The package's folder (new or empty)."
)
@click.option("--name", help="The ROS package name (lowercase, [a-z][a-z0-9_]*); default: the model's file stem.")
@click.option(
    "--runtime",
    type=click.Choice(["litert", "engine"]),
    default="litert",
    show_default=True,
    help="litert: the TFLite interpreter (ai_edge_litert or tflite_runtime) on the robot; "
    "engine: edgeq's compiled engine, built into a shared library by colcon build (needs a C compiler).",
)
@json_option
@edgeq_errors
def command(model, out_dir, name, runtime, as_json):
    """Write an ament_python ROS 2 package that serves MODEL (.tflite) as a node.

    Copy the folder into a workspace's src/, then: colcon build --packages-select PKG;
    ros2 launch PKG PKG.launch.py. The node needs rclpy and numpy (and a TFLite runtime
    with --runtime litert), not edgeq; it takes the parameters and messages of edgeq ros2 run.
    """
    from edgeq.ros2.package import write_package

    package = write_package(model, out_dir, name, runtime)
    if as_json:
        print_json(package.to_dict())
        return
    info = package.to_dict()
    click.echo(f"ROS 2 package {package.name} ({runtime}) in {package.folder}: {len(package.files)} files")
    click.echo(f"  build:  {info['build']}  (in the workspace holding it under src/)")
    click.echo(f"  launch: {info['launch']}")
