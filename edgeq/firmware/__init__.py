"""Firmware for Cortex-M boards from a compiled engine: project, build, QEMU, flash.

``edgeq build`` and ``edgeq flash`` sit on these modules: :mod:`.project`
writes a firmware folder (engine + DUT protocol + board platform layer),
:mod:`.build` compiles it with arm-none-eabi-gcc and checks the fit,
:mod:`.qemu` runs it on an emulated board, :mod:`.flash` puts an image on a
real one.
"""

from __future__ import annotations
