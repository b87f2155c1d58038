"""A lab of boards on many machines, and sweeps of models x options x targets, on a Ray cluster.

Ray (the ``farm`` extra) is imported only when a farm command runs. Without a
cluster everything runs on this machine.
"""
