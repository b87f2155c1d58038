"""Child process of the host-tflm target: ``python -m edgeq.targets.tflm_worker FOLDER ARENA``.

Reads FOLDER/model.tflite and FOLDER/in.npz (arr_0.. per input, a leading
sample axis), writes FOLDER/out.npz (arr_0.. per output).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def main(argv: list[str]) -> int:
    from tflite_micro.python.tflite_micro import runtime

    folder, arena = Path(argv[0]), int(argv[1])
    interpreter = runtime.Interpreter.from_bytes((folder / "model.tflite").read_bytes(), arena_size=arena)
    with np.load(folder / "in.npz") as data:
        inputs = [data[f"arr_{i}"] for i in range(len(data.files))]
    outputs: dict[int, list[np.ndarray]] = {}
    for n in range(len(inputs[0])):
        for i, x in enumerate(inputs):
            interpreter.set_input(x[n].reshape(interpreter.get_input_details(i)["shape"]), i)
        interpreter.invoke()
        k = 0
        while True:
            try:
                out = np.array(interpreter.get_output(k))
                outputs.setdefault(k, []).append(out[0] if out.ndim and out.shape[0] == 1 else out)
            except (IndexError, RuntimeError, ValueError):
                outputs.pop(k, None)
                break
            k += 1
    np.savez(folder / "out.npz", *[np.stack(outputs[k]) for k in sorted(outputs)])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
