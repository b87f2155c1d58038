"""``edgeq compile``: an int8 .tflite compiled for an NPU (placeholder until the command lands)."""
