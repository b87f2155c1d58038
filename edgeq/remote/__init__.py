"""Profiling on Linux boards (Raspberry Pi and the like) over SSH.

- :mod:`edgeq.remote.endpoint`: ``ssh://user@host[:port]`` and the client settings.
- :mod:`edgeq.remote.session`: the OpenSSH client (``ssh``/``scp``), one shared connection per job.
- :mod:`edgeq.remote.diagnose`: ssh and runner failures -> one-line edgeq errors naming the fix.
- :mod:`edgeq.remote.job`: copy model, sample and runner to a temp folder on the board, run, fetch, clean up.
- :mod:`edgeq.remote.runner`: the self-contained script that runs on the board (numpy + a TFLite runtime).
"""
