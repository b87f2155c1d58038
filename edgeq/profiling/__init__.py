"""``edgeq profile``: latency (with tail percentiles), memory and energy of a model on a target."""

from edgeq.profiling.profile import profile
from edgeq.profiling.types import Energy, Memory, ProfileResult, Timing

__all__ = ["Energy", "Memory", "ProfileResult", "Timing", "profile"]
