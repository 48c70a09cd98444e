"""Bribery risks on the web: the register and its export, a risk's pages and history, exercises, the matrix, the heat
maps, due diligence, gifts and their thresholds."""

from . import (
    common,
    detail,
    due_diligence,
    exercises,
    gift_thresholds,
    gifts,
    heatmap,
    history,
    matrix,
    register,
    register_export,
)
from .blueprint import bp

__all__ = ["bp", "common", "detail", "due_diligence", "exercises", "gift_thresholds", "gifts", "heatmap", "history",
           "matrix", "register", "register_export"]
