"""threats."""
