"""Registries: reading one through a Source (``source`` protocols, one module per backend,
``factory`` above them) and writing a local one (``store``)."""
