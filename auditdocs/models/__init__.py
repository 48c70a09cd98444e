"""SQLAlchemy models, one module per area; imported here so metadata is complete."""

from .audit import AuditEvent
from .documents import Document, DocumentReview, DocumentVersion, document_clauses, document_shares
from .standards import Clause, CrossMap, Standard
from .users import ROLES, User

__all__ = [
    "ROLES", "AuditEvent", "Clause", "CrossMap", "Document", "DocumentReview", "DocumentVersion", "Standard",
    "User", "document_clauses", "document_shares",
]
