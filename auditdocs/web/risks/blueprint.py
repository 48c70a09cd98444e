"""The risks blueprint: bribery risks and their heat maps, due diligence and gifts (ISO 37001 4.5, 8.2, 8.7)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("risks", __name__, url_prefix="/risks")
