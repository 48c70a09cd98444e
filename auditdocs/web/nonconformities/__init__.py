"""Nonconformities and corrective actions on the web: the register, the record's pages, its actions and history."""

from . import actions, detail, history, listing
from .blueprint import bp

__all__ = ["actions", "bp", "detail", "history", "listing"]
