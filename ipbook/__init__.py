"""ipbook."""
