"""Certificates: the body's decision for a scope, its file, its three-year cycle and the warning before it lapses.

Why: the certificate is what the organisation shows the world, and its cycle drives the audit programme. A new file
is added, never replaced (the newest is "the" file, the earlier ones stay listed); who downloaded it is recorded like
any evidence download.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..events import announce
from ..extensions import db
from ..models import Attachment, Audit, Certificate, User
from ..models.programme import CYCLE_YEARS, SCOPE_KEYS
from ..timeutil import utcnow
from . import audit
from .documents import add_months
from .programme import NAME_MAX, Problems, require_manager, scope_row
from .uploads import Checked

OWNER_TYPE = "certificate"  # Attachment.owner_type of certificate files
NUMBER_MAX = 80
WARN_DAYS = 90  # the dashboard warns this many days before a certificate expires
TYPE_ORDER = {"initial": 0, "recertification": 1, "surveillance_1": 2, "surveillance_2": 3}
EXPECTED = (("surveillance_1", 1), ("surveillance_2", 2), ("recertification", CYCLE_YEARS))  # type, cycle year


@dataclass
class CertificateInput:
    """What the certificate form says."""

    number: str | None
    scope_key: str | None
    body: str | None
    issued_on: date | None
    expires_on: date | None


def _checked(data: CertificateInput, current: Certificate | None) -> dict[str, Any]:
    """The values to store, or every problem at once (InvalidInput)."""
    problems = Problems()
    number = " ".join((data.number or "").split()) or None
    if number is None:
        problems.add("number", _l("Enter the certificate number."))
    elif len(number) > NUMBER_MAX:
        problems.add("number", _l("At most %(num)d characters.", num=NUMBER_MAX))
    else:
        twin = select(func.count(Certificate.id)).where(func.lower(Certificate.number) == number.lower(),
                                                        Certificate.id != (current.id if current else 0))
        if db.session.scalar(twin):
            problems.add("number", _l("Another certificate already has the number %(number)s.", number=number))
    if data.scope_key not in SCOPE_KEYS:
        problems.add("scope", _l("Choose from the list."))
    body = problems.text("body", data.body, NAME_MAX, _l("Name the certification body."))
    issued = problems.day("issued_on", data.issued_on, _l("Enter the issue date."))
    expires = problems.day("expires_on", data.expires_on, _l("Enter the expiry date."))
    if issued and expires and expires <= issued:
        problems.add("expires_on", _l("The expiry date must come after the issue date."))
    problems.check()
    return {"number": number, "body": body, "issued_on": issued, "expires_on": expires}


def check_certificate(data: CertificateInput, current: Certificate | None = None) -> None:
    """Validate without writing: a page checks the fields before it spends time on the uploaded file."""
    _checked(data, current)


def certificate_state(cert: Certificate) -> dict[str, Any]:
    """What the audit trail keeps of a certificate."""
    return {"number": cert.number, "scope": cert.scope.key, "body": cert.body, "issued_on": cert.issued_on,
            "expires_on": cert.expires_on}


def create_certificate(data: CertificateInput, *, actor: User) -> Certificate:
    """Register a certificate for a scope; audited as certificate.create."""
    require_manager(actor)
    values = _checked(data, None)
    cert = Certificate(**values, scope=scope_row(str(data.scope_key)), created_by_id=actor.id, created_at=utcnow())
    db.session.add(cert)
    db.session.flush()
    audit.record("certificate.create", "certificate", cert.number, actor=actor, new=certificate_state(cert))
    announce("certificate", cert.id, "create")
    return cert


def update_certificate(cert: Certificate, data: CertificateInput, *, actor: User) -> bool:
    """Correct a certificate's details; audited as certificate.update with what changed."""
    require_manager(actor)
    values = _checked(data, cert)
    before = certificate_state(cert)
    for key, value in values.items():
        setattr(cert, key, value)
    cert.scope = scope_row(str(data.scope_key))
    db.session.flush()
    after = certificate_state(cert)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        audit.record("certificate.update", "certificate", cert.number, actor=actor,
                     old={k: before[k] for k in changed}, new={k: after[k] for k in changed})
        announce("certificate", cert.id, "update")
    return bool(changed)


def attach_file(cert: Certificate, checked: Checked, *, actor: User) -> Attachment:
    """Add a file to a certificate (the `write` step of `uploads.ingest`): append-only, the newest is current.

    Two events: `attachment.add`, in the shape the audit-trail cross-check replays for every attachment row, and
    `certificate.attach`, which names the certificate as people know it."""
    require_manager(actor)
    row = Attachment(owner_type=OWNER_TYPE, owner_id=cert.id, sha256=checked.sha256,
                     original_filename=checked.display_name, mime_type=checked.mime_type, size=checked.size,
                     uploaded_by_id=actor.id, uploaded_at=utcnow())
    db.session.add(row)
    db.session.flush()
    file = {"attachment": row.id, "filename": row.original_filename, "sha256": row.sha256, "size": row.size,
            "mime": row.mime_type}
    audit.record("attachment.add", OWNER_TYPE, f"{OWNER_TYPE}:{cert.id}", actor=actor, new=file)
    audit.record("certificate.attach", "certificate", cert.number, actor=actor, new=file)
    announce("attachment", row.id, "add")
    return row


def files_of(cert: Certificate) -> list[Attachment]:
    """A certificate's files, newest first (the first is the current one)."""
    return list(db.session.scalars(select(Attachment).where(
        Attachment.owner_type == OWNER_TYPE, Attachment.owner_id == cert.id).order_by(Attachment.id.desc())))


def file_of(cert: Certificate, attachment_id: int) -> Attachment | None:
    """One of the certificate's files, or None (an id of another record's attachment is not this one's)."""
    row = db.session.get(Attachment, attachment_id)
    return row if row is not None and row.owner_type == OWNER_TYPE and row.owner_id == cert.id else None


def record_download(cert: Certificate, row: Attachment, actor: User) -> None:
    """An access receipt for a certificate file, as for document downloads (the one side effect of a GET)."""
    audit.record("certificate.download", "certificate", cert.number, actor=actor,
                 new={"attachment": row.id, "sha256": row.sha256})


# -- the cycle and the warning ----------------------------------------------------------------------------------


def audits_of(cert: Certificate) -> list[Audit]:
    """The certificate's audits in cycle order: certification before surveillance, then by date."""
    rows = db.session.scalars(select(Audit).where(Audit.certificate_id == cert.id))
    return sorted(rows, key=lambda a: (when(a), TYPE_ORDER.get(a.audit_type, 9), a.stage, a.id))


def when(item: Audit) -> date:
    """The day an audit is placed on the timeline: when it actually started, else when it is planned to."""
    return item.actual_start or item.planned_start


@dataclass
class CycleYear:
    """One year of a certificate's cycle, with the audits that fall in it and those still expected in it."""

    number: int
    start: date
    end: date
    current: bool
    audits: list[Audit] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)  # audit types the cycle needs here, not planned yet


@dataclass
class Cycle:
    """A certificate's three-year cycle: the audits before its issue (initial or recertification), its years, and
    any audit dated after the cycle ended."""

    certificate: Certificate
    before: list[Audit]
    years: list[CycleYear]
    after: list[Audit]
    expired: bool


def cycle_of(cert: Certificate, today: date) -> Cycle:
    """Place the certificate's audits in its cycle (issue date + 3 years) and name the audits still to plan."""
    years = []
    for n in range(1, CYCLE_YEARS + 1):
        start, end = add_months(cert.issued_on, 12 * (n - 1)), add_months(cert.issued_on, 12 * n) - timedelta(1)
        years.append(CycleYear(n, start, end, start <= today <= end))
    before: list[Audit] = []
    after: list[Audit] = []
    items = audits_of(cert)
    for item in sorted(items, key=lambda a: (TYPE_ORDER.get(a.audit_type, 9), when(a), a.stage, a.id)):
        day = when(item)
        slot = next((y for y in years if y.start <= day <= y.end), None)
        if slot is not None:
            slot.audits.append(item)
        else:
            (before if day < years[0].start else after).append(item)
    expired = cert.expires_on < today
    if not expired:
        planned = {a.audit_type for a in items if a.status != "cancelled"}
        for audit_type, year in EXPECTED:
            if audit_type not in planned:
                years[year - 1].expected.append(audit_type)
    return Cycle(cert, before, years, after, expired)


def programme(today: date) -> tuple[list[Cycle], list[Audit]]:
    """Every certificate's cycle (the newest issue first) and the internal audits (the latest first)."""
    certs = db.session.scalars(select(Certificate).order_by(Certificate.issued_on.desc(), Certificate.id.desc()))
    internal = db.session.scalars(select(Audit).where(Audit.audit_type == "internal")
                                  .order_by(Audit.planned_start.desc(), Audit.id.desc()))
    return [cycle_of(c, today) for c in certs], list(internal)


@dataclass(frozen=True)
class ExpiryWarning:
    """A certificate that expires soon (or has expired) and that no later certificate of its scope replaces."""

    certificate: Certificate
    days_left: int

    @property
    def expired(self) -> bool:
        return self.days_left < 0


def expiry_warnings(today: date, within_days: int = WARN_DAYS) -> list[ExpiryWarning]:
    """Certificates expiring within the window, or expired, unless a later one of the same scope is valid."""
    soon = db.session.scalars(select(Certificate).where(Certificate.expires_on <= today + timedelta(within_days))
                              .order_by(Certificate.expires_on, Certificate.id)).all()
    warnings = []
    for cert in soon:
        successor = select(func.count(Certificate.id)).where(
            Certificate.scope_id == cert.scope_id, Certificate.id != cert.id, Certificate.issued_on > cert.issued_on,
            Certificate.expires_on > today + timedelta(within_days))
        if not db.session.scalar(successor):
            warnings.append(ExpiryWarning(cert, (cert.expires_on - today).days))
    return warnings
