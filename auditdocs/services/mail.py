"""Outgoing e-mail over SMTP (the standard library's smtplib): approval requests and reset passwords.

Why this shape: mail is optional (off while AUDITDOCS_SMTP_HOST is unset) and never part of a change: it leaves after
the commit, each person gets it in their own language, and a failed delivery is logged, never turned into a failed
upload or approval. Approval requests follow the change events (`on_changes`), so every way a version arrives (the
form, bulk upload, the import) announces it the same way.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import or_, select

from ..events import Change
from ..extensions import db
from ..models import DocumentVersion, User
from ..policy import AccessScope
from ..timeutil import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One e-mail to one person."""

    to: str
    subject: str
    body: str


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""


def enabled() -> bool:
    """Mail goes out only when an SMTP host is configured."""
    return bool(current_app.config.get("SMTP_HOST"))


def send(messages: Sequence[Message]) -> None:
    """Deliver the messages over one SMTP connection; raises MailError."""
    cfg = current_app.config
    if not messages or not enabled():
        return
    sender = cfg.get("SMTP_FROM") or "auditdocs@localhost"
    try:
        with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg.get("SMTP_PORT") or 25),
                          timeout=float(cfg.get("SMTP_TIMEOUT") or 10)) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
            if cfg.get("SMTP_USER"):
                smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
            for message in messages:
                email = EmailMessage()
                email["From"] = formataddr(("auditdocs", sender))
                email["To"] = message.to
                email["Subject"] = message.subject
                email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
                email.set_content(message.body)
                smtp.send_message(email)
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        raise MailError(f"{exc.__class__.__name__}: {exc}") from exc


def send_quietly(messages: Sequence[Message]) -> bool:
    """Deliver, or log why not: the change that caused the mail stands either way."""
    try:
        send(messages)
    except MailError as exc:
        logger.warning("e-mail to %d recipient(s) not sent: %s", len(messages), exc)
        return False
    return True


@contextmanager
def language_of(user: User) -> Iterator[None]:
    """Messages, dates and numbers in the person's language (their saved choice, else the organisation's)."""
    languages = current_app.config["LANGUAGES"]
    lang = user.language if user.language in languages else current_app.config["DEFAULT_LANGUAGE"]
    with force_locale(lang):
        yield


def link(endpoint: str, **values: Any) -> str | None:
    """An absolute address for a page: AUDITDOCS_BASE_URL when set, else the address of the current request."""
    base = current_app.config.get("BASE_URL")
    if base:
        path = current_app.url_map.bind("localhost").build(endpoint, values)
        return f"{str(base).rstrip('/')}{path}"
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    return None


# -- what is sent --------------------------------------------------------------------------------------------------


def approvers_of(version: DocumentVersion) -> list[User]:
    """Everyone who may approve this draft now: an enabled approver who sees the document and did not upload it."""
    now = utcnow()
    users = db.session.scalars(select(User).where(User.active.is_(True), User.id != version.uploaded_by_id,
                                                  or_(User.access_until.is_(None), User.access_until > now))
                               .order_by(User.id)).all()
    return [u for u in users if (scope := AccessScope.of(u)).can("approve_documents")
            and scope.sees_version(version) and scope.refuse_approve(version) is None]


def approval_request(version: DocumentVersion, user: User) -> Message:
    """'PR-QA-001 v3 awaits your approval', in the person's language."""
    doc = version.document
    with language_of(user):
        subject = _("[auditdocs] %(code)s %(label)s awaits your approval", code=doc.code, label=version.label)
        lines = [_("%(name)s uploaded version %(label)s of %(code)s “%(title)s” on %(day)s. It awaits the approval "
                   "of someone other than its author.", name=version.uploaded_by.name, label=version.label,
                   code=doc.code, title=doc.title, day=format_date(version.uploaded_at, "long"))]
        if version.effective_date:
            lines.append(_("Intended effective date: %(day)s.", day=format_date(version.effective_date, "long")))
        if version.change_note:
            lines.append(_("Change note: %(note)s", note=version.change_note))
        if address := link("documents.detail", doc_id=doc.id):
            lines.append(_("Open it: %(link)s", link=address))
        lines.append(_("You receive this message because you may approve documents in auditdocs."))
        return Message(user.email, subject, "\n\n".join(lines) + "\n")


def request_approvals(version_ids: Sequence[int]) -> int:
    """E-mail every possible approver of each draft that still awaits approval; returns how many messages went."""
    messages = []
    for version_id in version_ids:
        version = db.session.get(DocumentVersion, version_id)
        if version is None or version.status != "draft" or version.document.status == "obsolete":
            continue
        messages += [approval_request(version, user) for user in approvers_of(version)]
    return len(messages) if messages and send_quietly(messages) else 0


def on_changes(changes: Sequence[Change]) -> None:
    """Change subscriber: a version uploaded (a draft that awaits approval) asks its approvers by e-mail."""
    uploaded = [c.id for c in changes if c.entity == "document_version" and c.action == "upload"]
    if not uploaded or not enabled():
        return
    with current_app.app_context():  # a session of its own: the writer's is between transactions
        request_approvals(uploaded)


def reset_password_message(user: User, password: str) -> Message:
    """The password an administrator reset, to the account's own address, in its language."""
    with language_of(user):
        lines = [_("Hello %(name)s,", name=user.name),
                 _("An administrator reset your auditdocs password. Your temporary password is:"),
                 password,
                 _("Sign in with it and choose a new password: until you do, auditdocs shows nothing else.")]
        if address := link("auth.login"):
            lines.append(address)
        lines.append(_("If you did not expect this message, tell your administrator."))
        return Message(user.email, _("[auditdocs] Your password was reset"), "\n\n".join(lines) + "\n")
