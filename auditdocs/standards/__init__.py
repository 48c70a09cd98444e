"""Clause catalogues as package data; editions are data files listed in data/standards.json."""

from .loader import DATA_DIR, LoadSummary, load_catalogue, sort_key

__all__ = ["DATA_DIR", "LoadSummary", "load_catalogue", "sort_key"]
