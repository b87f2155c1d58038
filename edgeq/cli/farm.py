"""``edgeq farm``: the boards of a lab's hosts as a Ray cluster (``agent``, ``status``)."""
