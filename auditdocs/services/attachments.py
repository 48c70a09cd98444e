"""Evidence attached to records: rows written inside `uploads.ingest`, so the file is checked like any upload and
stored once, by its hash, however many records cite it."""

from __future__ import annotations

from sqlalchemy import select

from ..events import announce
from ..extensions import db
from ..models import Attachment, User
from ..models.revisions import Revisioned
from ..policy import scope_of
from ..timeutil import utcnow
from . import Forbidden, audit
from .uploads import Checked


def attach(record: Revisioned, checked: Checked, *, actor: User) -> Attachment:
    """Add a checked upload to a record (call it as the `write` step of `uploads.ingest`); audited, append-only."""
    refusal = scope_of(actor).refuse_edit_record(record)
    if refusal is not None:
        raise Forbidden(refusal)
    attachment = Attachment(owner_type=record.__entity_type__, owner_id=record.id, sha256=checked.sha256,
                            original_filename=checked.display_name, mime_type=checked.mime_type, size=checked.size,
                            uploaded_by_id=actor.id, uploaded_at=utcnow())
    db.session.add(attachment)
    db.session.flush()
    audit.record("attachment.add", attachment.owner_type, f"{attachment.owner_type}:{record.id}", actor=actor,
                 new={"attachment": attachment.id, "filename": attachment.original_filename,
                      "sha256": attachment.sha256, "size": attachment.size, "mime": attachment.mime_type})
    announce("attachment", attachment.id, "add")
    return attachment


def attachments_of(record: Revisioned) -> list[Attachment]:
    """A record's attachments, oldest first."""
    return list(db.session.scalars(select(Attachment).where(
        Attachment.owner_type == record.__entity_type__, Attachment.owner_id == record.id).order_by(Attachment.id)))


def record_download(attachment: Attachment, actor: User) -> None:
    """An access receipt for a record's evidence file, as for document downloads (the one side effect of a GET)."""
    audit.record("attachment.download", attachment.owner_type, f"{attachment.owner_type}:{attachment.owner_id}",
                 actor=actor, new={"attachment": attachment.id, "sha256": attachment.sha256})
