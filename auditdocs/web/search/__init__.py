"""Search on the web: the page with its box, facets and snippets, and the JSON endpoint with the same results."""

from . import pages
from .blueprint import bp

__all__ = ["bp", "pages"]
