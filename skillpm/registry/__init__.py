"""Registries: reading one (source) and maintaining a local one (store)."""
