"""The names under which hosts advertise what they have as Ray custom resources.

One unit of ``target_resource(T)`` is one board (or emulator slot) that runs
target ``T``; a job asking for one unit holds it exclusively while it runs.
A host's abilities are resources of one unit each (``CAPABILITIES``).
"""

from __future__ import annotations

import re

PREFIX = "edgeq_"
# what a host can do -> the resource it advertises (one unit when it can)
CAPABILITIES = {
    "tensorflow": f"{PREFIX}cap_tensorflow",  # edgeq convert runs here
    "arm-gcc": f"{PREFIX}cap_arm_gcc",  # arm-none-eabi-gcc: firmware builds
    "qemu": f"{PREFIX}cap_qemu",  # qemu-system-arm: emulated boards
    "cc": f"{PREFIX}cap_cc",  # a host C compiler: host-c
}


def target_resource(target: str) -> str:
    """The resource of one board running ``target`` (``qemu-m4`` -> ``edgeq_target_qemu_m4``)."""
    return f"{PREFIX}target_{re.sub(r'[^A-Za-z0-9]+', '_', target).strip('_').lower()}"


def board_resource(board_id: str) -> str:
    """The resource of one physical board of ``board_id`` (``nucleo-l4r5zi`` -> ``edgeq_board_nucleo_l4r5zi``)."""
    return f"{PREFIX}board_{re.sub(r'[^A-Za-z0-9]+', '_', board_id).strip('_').lower()}"
