"""SQLAlchemy models, one module per area; imported here so metadata is complete."""

from .attachments import Attachment
from .audit import AuditEvent
from .documents import Document, DocumentReview, DocumentVersion, document_clauses, document_shares
from .revisions import RecordRevision, Revisioned
from .standards import Clause, CrossMap, Standard
from .users import ROLES, User

__all__ = [
    "ROLES", "Attachment", "AuditEvent", "Clause", "CrossMap", "Document", "DocumentReview", "DocumentVersion",
    "RecordRevision", "Revisioned", "Standard", "User", "document_clauses", "document_shares",
]
