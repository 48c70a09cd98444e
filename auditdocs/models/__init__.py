"""SQLAlchemy models, one module per area; imported here so metadata is complete."""

from .audit import AuditEvent
from .standards import Clause, CrossMap, Standard
from .users import ROLES, User

__all__ = ["ROLES", "AuditEvent", "Clause", "CrossMap", "Standard", "User"]
