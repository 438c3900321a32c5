"""Builds the offline Pyodide site (python -m pyodide_build)."""
