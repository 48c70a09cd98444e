"""Certification scope, certificates and the audit programme (auditors read, staff keep them)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("programme", __name__)
