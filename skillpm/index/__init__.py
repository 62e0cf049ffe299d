"""The static registry index: its document model (pure) and its layout."""
