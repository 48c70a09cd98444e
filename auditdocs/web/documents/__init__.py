"""Controlled documents on the web: the register, the document page, uploads and the approval workflow."""

from . import bulk, pages, preview, workflow
from .blueprint import bp

__all__ = ["bp", "bulk", "pages", "preview", "workflow"]
