"""SQLAlchemy models, one module per area; imported here so metadata is complete."""

from .attachments import Attachment
from .audit import AuditEvent
from .blobhealth import BlobFailure
from .documents import Document, DocumentReview, DocumentVersion, document_clauses, document_shares
from .extracted import BlobText
from .org import Process, Site, document_processes, document_sites
from .packs import PackJob
from .programme import Audit, AuditSite, Certificate, Scope
from .records import CorrectiveAction, Nonconformity, RecordCounter, nonconformity_clauses, nonconformity_documents
from .revisions import RecordRevision, Revisioned
from .risks import (
    BriberyRisk,
    DueDiligence,
    Gift,
    GiftThreshold,
    RiskExercise,
    RiskMatrix,
    due_diligence_risks,
    gift_risks,
    risk_controls,
    risk_treatments,
)
from .security import LoginFailure, SecurityCounter, UserSession
from .standards import Clause, CrossMap, Standard
from .users import ROLES, User

__all__ = [
    "ROLES",
    "Attachment",
    "Audit",
    "AuditEvent",
    "AuditSite",
    "BlobFailure",
    "BlobText",
    "BriberyRisk",
    "Certificate",
    "Clause",
    "CorrectiveAction",
    "CrossMap",
    "Document",
    "DocumentReview",
    "DocumentVersion",
    "DueDiligence",
    "Gift",
    "GiftThreshold",
    "LoginFailure",
    "Nonconformity",
    "PackJob",
    "Process",
    "RecordCounter",
    "RecordRevision",
    "Revisioned",
    "RiskExercise",
    "RiskMatrix",
    "Scope",
    "SecurityCounter",
    "Site",
    "Standard",
    "User",
    "UserSession",
    "document_clauses",
    "document_processes",
    "document_shares",
    "document_sites",
    "due_diligence_risks",
    "gift_risks",
    "nonconformity_clauses",
    "nonconformity_documents",
    "risk_controls",
    "risk_treatments",
]
