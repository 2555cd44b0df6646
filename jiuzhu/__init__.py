"""Jiuzhu (救助): social assistance management platform."""

__version__ = "0.1.0"
