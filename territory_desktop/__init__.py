"""Territory Desktop: desktop GIS for sales territory management."""

__version__ = "0.1.0"
