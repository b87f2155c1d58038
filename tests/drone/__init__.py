"""MAVLink companion (edgeq mavlink) against a simulated autopilot."""
