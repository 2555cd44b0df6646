"""Shared test set-up: Django settings come from pyproject (pytest-django)."""
