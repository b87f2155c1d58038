"""The edgeq compiled engine: a .tflite lowered to plain C99 calls of a fixed int8 kernel library."""
