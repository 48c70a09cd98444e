"""The organisation: the site tree and the process map (read by every signed-in role, kept by quality officers)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("org", __name__, url_prefix="/org")
