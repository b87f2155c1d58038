"""``edgeq sweep``: models x convert options x targets, run as independent jobs, kept in a results folder."""
