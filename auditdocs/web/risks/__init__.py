"""Bribery risks, due diligence and gifts on the web: one blueprint, a module per area."""

from . import due_diligence, gift_thresholds, gifts, register_export
from .blueprint import bp

__all__ = ["bp", "due_diligence", "gift_thresholds", "gifts", "register_export"]
