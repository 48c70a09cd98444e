"""Site sampling for a certification audit by IAF MD 1: propose, adjust, confirm."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sampling", __name__)
