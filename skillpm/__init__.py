"""skillpm: a package manager for Agent Skills, with variants per GPU target."""

__version__ = "0.1.0"
