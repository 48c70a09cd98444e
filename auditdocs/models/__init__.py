"""SQLAlchemy models, one module per area; imported here so metadata is complete."""

from .attachments import Attachment
from .audit import AuditEvent
from .blobhealth import BlobFailure
from .documents import Document, DocumentReview, DocumentVersion, document_clauses, document_shares
from .revisions import RecordRevision, Revisioned
from .security import LoginFailure, SecurityCounter, UserSession
from .standards import Clause, CrossMap, Standard
from .users import ROLES, User

__all__ = [
    "ROLES", "Attachment", "AuditEvent", "BlobFailure", "Clause", "CrossMap", "Document", "DocumentReview",
    "DocumentVersion", "LoginFailure", "RecordRevision", "Revisioned", "SecurityCounter", "Standard", "User",
    "UserSession", "document_clauses", "document_shares",
]
