"""auditdocs: document management for ISO 9001:2015 and ISO 37001:2016 audit evidence."""

from .app import create_app

__all__ = ["create_app"]
