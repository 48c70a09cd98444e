"""Bribery risks on the web: the register, a risk's pages and history, exercises, the matrix, the heat maps."""

from . import common, detail, exercises, heatmap, history, matrix, register
from .blueprint import bp

__all__ = ["bp", "common", "detail", "exercises", "heatmap", "history", "matrix", "register"]
