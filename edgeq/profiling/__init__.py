"""``edgeq profile``: latency (with tail percentiles), memory and energy of a model on a target."""

from edgeq.measurements import Energy, Memory, Timing
from edgeq.profiling.profile import profile
from edgeq.profiling.types import ProfileResult

__all__ = ["Energy", "Memory", "ProfileResult", "Timing", "profile"]
