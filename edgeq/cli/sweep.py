"""``edgeq sweep``: which configuration should I ship."""
