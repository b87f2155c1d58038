"""Entry point of the worker process: ``python -m edgeq.worker JOB ARGS...`` (see :mod:`edgeq.worker`)."""

import sys

from edgeq.worker.jobs import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
