"""The MLPerf Tiny runner's model ids (mlcommons/tiny ``benchmark/runner/tests_*.yaml``).

The runner asks a board for its model with `profile%` and runs the script of the
``m-model-[ID]`` it reads; a firmware reporting any other id cannot be run there.
``edgeq build --mlperf ID`` makes the firmware report one of these (:mod:`.glue`).
No imports: the CLI reads it when it loads.
"""

from __future__ import annotations

MLPERF_MODELS = ("kws01", "ic01", "vww01", "ad01", "sww01")
