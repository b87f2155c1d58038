"""MAVLink (pymavlink, the ``drone`` extra): a model on a companion computer, sending its results to an autopilot."""
