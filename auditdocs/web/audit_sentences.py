"""The audit trail as sentences a person reads: who did what to which object, linked where the reader may look.

Why a registry: the trail stores machine codes ("version.approve", "PR-QA-001#3") and canonical JSON; an
administrator checking who approved what should read "Rosa Huamán approved PR-QA-001 v3" in their language and
see the changes as a table. The raw fields stay in the CSV export. Objects are loaded in one batch per kind for a
page (no query per row); an object the reader may not see is named by its code only, never linked, and its
changes are withheld (a restricted document's title never reaches the page).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select

from ..extensions import db
from ..labels import (
    AUDIT_TYPE_LABELS,
    CONFIDENTIALITY_LABELS,
    KIND_LABELS,
    LANGUAGE_LABELS,
    ROLE_LABELS,
    SESSION_END_LABELS,
    STATUS_LABELS,
    VERSION_STATUS_LABELS,
)
from ..models import AuditEvent, Certificate, Document, DocumentVersion, Process, Site, Standard, User
from ..models.documents import EVER_APPROVED
from ..models.programme import Audit
from ..policy import AccessScope
from .helpers import current_lang, fmt_date, fmt_datetime, fmt_size
from .programme_forms import SCOPE_LABELS

# action -> (group, name for the filter list, sentence). %(actor)s and %(object)s are filled with escaped markup.
ACTIONS: dict[str, tuple[str, Any, Any]] = {
    "document.create": ("documents", _l("Document registered"), _l("%(actor)s registered %(object)s")),
    "document.update": ("documents", _l("Document details edited"), _l("%(actor)s edited the details of %(object)s")),
    "document.clauses": ("documents", _l("Clause mapping changed"), _l("%(actor)s changed the clauses of %(object)s")),
    "document.review": ("documents", _l("Document reviewed"), _l("%(actor)s recorded a review of %(object)s")),
    "document.withdraw": ("documents", _l("Document withdrawn"), _l("%(actor)s withdrew %(object)s")),
    "document.view": ("documents", _l("Document opened"), _l("%(actor)s opened %(object)s")),
    "version.upload": ("documents", _l("Version uploaded"), _l("%(actor)s uploaded %(object)s")),
    "version.approve": ("documents", _l("Version approved"), _l("%(actor)s approved %(object)s")),
    "version.reject": ("documents", _l("Version rejected"), _l("%(actor)s rejected %(object)s")),
    "version.download": ("documents", _l("Version downloaded"), _l("%(actor)s downloaded %(object)s")),
    "version.preview": ("documents", _l("Version previewed"), _l("%(actor)s previewed %(object)s")),
    "clause.applicability": ("documents", _l("Clause applicability changed"),
                             _l("%(actor)s changed the applicability of %(object)s")),
    "clause.title": ("documents", _l("Clause title corrected"), _l("%(actor)s corrected the title of %(object)s")),
    "record.revise": ("records", _l("Record saved"), _l("%(actor)s saved %(object)s")),
    "attachment.add": ("records", _l("File attached"), _l("%(actor)s attached a file to %(object)s")),
    "reminder.sent": ("records", _l("Action reminder e-mailed"),
                      _l("%(actor)s e-mailed %(object)s a reminder of their overdue and soon-due corrective actions")),
    "attachment.download": ("records", _l("Evidence file downloaded"),
                            _l("%(actor)s downloaded a file of %(object)s")),
    "gift_threshold.set": ("records", _l("Gift threshold set"),
                           _l("%(actor)s set the gift threshold for %(object)s")),
    "risk_matrix.save": ("records", _l("Risk matrix changed"),
                         _l("%(actor)s saved version %(object)s of the bribery-risk matrix")),
    "site.create": ("org", _l("Site added"), _l("%(actor)s added the site %(object)s")),
    "site.update": ("org", _l("Site edited"), _l("%(actor)s edited the site %(object)s")),
    "process.create": ("org", _l("Process added"), _l("%(actor)s added the process %(object)s")),
    "process.update": ("org", _l("Process edited"), _l("%(actor)s edited the process %(object)s")),
    "org.import": ("org", _l("Organisation imported"), _l("%(actor)s imported sites and processes from a file")),
    "scope.update": ("programme", _l("Certification scope edited"), _l("%(actor)s edited %(object)s")),
    "certificate.create": ("programme", _l("Certificate registered"),
                           _l("%(actor)s registered the certificate %(object)s")),
    "certificate.update": ("programme", _l("Certificate edited"), _l("%(actor)s edited the certificate %(object)s")),
    "certificate.attach": ("programme", _l("Certificate file added"),
                           _l("%(actor)s added a file to the certificate %(object)s")),
    "certificate.download": ("programme", _l("Certificate downloaded"),
                             _l("%(actor)s downloaded the certificate %(object)s")),
    "audit.create": ("programme", _l("Audit planned"), _l("%(actor)s planned %(object)s")),
    "audit.update": ("programme", _l("Audit edited"), _l("%(actor)s edited %(object)s")),
    "audit.sample": ("programme", _l("Site sample drawn"), _l("%(actor)s drew the site sample of %(object)s")),
    "user.create": ("users", _l("Account created"), _l("%(actor)s created the account of %(object)s")),
    "user.role": ("users", _l("Role changed"), _l("%(actor)s changed the role of %(object)s")),
    "user.enable": ("users", _l("Account enabled"), _l("%(actor)s enabled the account of %(object)s")),
    "user.disable": ("users", _l("Account disabled"), _l("%(actor)s disabled the account of %(object)s")),
    "user.password": ("users", _l("Password set"), _l("%(actor)s set a new password for %(object)s")),
    "user.access_until": ("users", _l("Access period changed"),
                          _l("%(actor)s changed the access period of %(object)s")),
    "user.update": ("users", _l("Account details edited"), _l("%(actor)s edited the name or e-mail of %(object)s")),
    "user.password_reset": ("users", _l("Password reset"), _l("%(actor)s reset the password of %(object)s")),
    "user.must_change_password": ("users", _l("Password change required"),
                                  _l("%(actor)s changed whether %(object)s must choose a new password")),
    "user.password_change": ("users", _l("Own password changed"), _l("%(actor)s changed their own password")),
    "auth.login": ("users", _l("Logged in"), _l("%(actor)s logged in")),
    "auth.logout": ("users", _l("Logged out"), _l("%(actor)s logged out")),
    "auth.session_end": ("users", _l("Session ended"), _l("%(actor)s ended a session of %(object)s")),
    "auth.login_failed": ("security", _l("Failed login"), _l("A login as %(object)s failed")),
    "auth.login_throttled": ("security", _l("Login throttled"), _l("Logins for %(object)s were slowed down")),
    "access.not_found": ("security", _l("Asked for what they may not see"),
                         _l("%(actor)s asked for pages they may not see")),
    "access.forbidden": ("security", _l("Tried what they may not do"), _l("%(actor)s tried actions they may not do")),
    "store.integrity_failure": ("storage", _l("Stored file failed its check"),
                                _l("The stored file %(object)s failed its integrity check")),
    "store.integrity_restored": ("storage", _l("Stored file whole again"),
                                 _l("The stored file %(object)s matches its fingerprint again")),
    "store.gc": ("storage", _l("Unreferenced files quarantined"),
                 _l("%(actor)s moved unreferenced stored files to quarantine")),
    "pack.queue": ("packs", _l("Word pack asked for"), _l("%(actor)s asked for the Word pack %(object)s")),
    "pack.build": ("packs", _l("Word pack built"), _l("The Word pack %(object)s of %(actor)s was built")),
    "pack.fail": ("packs", _l("Word pack failed"), _l("The Word pack %(object)s of %(actor)s could not be built")),
    "pack.download": ("packs", _l("Word pack downloaded"), _l("%(actor)s downloaded the Word pack %(object)s")),
}
GROUPS: dict[str, Any] = {
    "documents": _l("Documents and clauses"), "records": _l("Records"), "org": _l("Organisation"),
    "programme": _l("Certification"), "users": _l("Accounts and sign-in"), "security": _l("Refusals"),
    "storage": _l("Stored files"), "packs": _l("Word packs"),
}
GENERIC = _l("%(actor)s: “%(action)s” on %(object)s")
GENERIC_NO_OBJECT = _l("%(actor)s: “%(action)s”")
ACTOR_LABELS = {"system": _l("The system"), "cli": _l("The command line")}

FIELD_LABELS: dict[str, Any] = {
    "title": _l("Title"), "kind": _l("Kind"), "owner": _l("Owner"), "owner_id": _l("Owner"),
    "language": _l("Language"), "confidentiality": _l("Confidentiality"), "clauses": _l("Clauses"),
    "sites": _l("Sites"), "processes": _l("Processes"), "status": _l("Status"), "effective_date": _l("Effective date"),
    "current": _l("Version in force"), "superseded": _l("Superseded version"), "next_review_date": _l("Next review"),
    "reason": _l("Reason"), "note": _l("Note"), "number": _l("Version"), "label": _l("Revision"),
    "filename": _l("File name"), "sha256": "SHA-256", "size": _l("Size"), "mime": _l("File type"),
    "document": _l("Document"), "role": _l("Role"), "active": _l("Active"), "email": _l("E-mail"), "name": _l("Name"),
    "must_change_password": _l("Must choose a new password"), "delivery": _l("Delivered by"),
    "after_reset": _l("After a reset"),
    "access_until": _l("Access until"), "applicable": _l("Applicable"), "title_en": _l("Title (English)"),
    "title_es": _l("Title (Spanish)"), "description": _l("Description"),
    "review_interval_months": _l("Review interval (months)"), "retention_years": _l("Retention (years)"),
    "shared_with": _l("Shared with"), "versions": _l("Versions"), "session": _l("Session"), "started": _l("Started"),
    "ip": _l("Address"), "window_start": _l("Window start"), "window_minutes": _l("Window (minutes)"),
    "first": _l("First request"), "previous_window": _l("Previous window"), "attachment": _l("Attachment"),
    "name_es": _l("Name (Spanish)"), "name_en": _l("Name (English)"), "code": _l("Code"), "parent": _l("Parent"),
    "region": _l("Region"), "address": _l("Postal address"), "responsible": _l("Responsible"),
    "category": _l("Category"), "detected_by": _l("Detected by"), "detail": _l("Detail"),
    "checked_by": _l("Checked by"), "rows": _l("Rows"), "file": _l("File"),
    "actions": _l("Corrective actions"), "action_ids": _l("Action numbers in the database"),
    "overdue": _l("Overdue"), "due_soon": _l("Due within 14 days"),
}
VALUE_LABELS: dict[str, Mapping[str, Any]] = {
    "kind": KIND_LABELS, "language": LANGUAGE_LABELS, "confidentiality": CONFIDENTIALITY_LABELS, "role": ROLE_LABELS,
    "status": STATUS_LABELS, "reason": SESSION_END_LABELS,
    "delivery": {"e-mail": _l("E-mail"), "shown once": _l("Shown once on the screen")},
}
USER_FIELDS = frozenset({"owner_id", "responsible_id"})
_DAY = re.compile(r"\d{4}-\d\d-\d\d")
_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
_VERSION_ID = re.compile(r"(?P<code>.+)#(?P<number>\d+)")


def action_name(action: str) -> str:
    """The translated name of an action for the filter list (the code itself when unknown)."""
    entry = ACTIONS.get(action)
    return str(entry[1]) if entry else action


def action_choices(selected: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    """Filter options grouped by area, sorted by translated name; an unknown filter value stays selectable."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for action, (group, name, _sentence) in ACTIONS.items():
        groups[group].append((action, str(name)))
    out = [(str(label), sorted(groups[key], key=lambda o: o[1].casefold())) for key, label in GROUPS.items()]
    if selected and selected not in ACTIONS:
        out.append((_("Other"), [(selected, selected)]))
    return out


@dataclass
class FieldChange:
    """One row of an event's change table."""

    label: str
    before: str
    after: str


@dataclass
class EventView:
    """What the log shows for one event."""

    event: AuditEvent
    sentence: Markup
    changes: list[FieldChange] = field(default_factory=list)
    withheld: bool = False

    @property
    def has_before(self) -> bool:
        """A creation or an access has no "before": its table shows the values only."""
        return any(c.before for c in self.changes)


@dataclass
class _Obj:
    """An object's label and, when the reader may open it, its page."""

    label: str
    url: str | None = None
    visible: bool = True

    def markup(self) -> Markup:
        if self.url:
            return Markup('<a href="{}">{}</a>').format(self.url, self.label)
        return Markup("<strong>{}</strong>").format(self.label)


class _Batch:
    """The objects a page of events names, each kind loaded with one query."""

    def __init__(self, events: list[AuditEvent], scope: AccessScope) -> None:
        self.scope = scope
        self.lang = current_lang()
        ids: dict[str, set[str]] = defaultdict(set)
        user_ids: set[int] = {e.actor_id for e in events if e.actor_id is not None}
        for e in events:
            if e.object_id is not None:
                ids[e.object_type].add(e.object_id)
            for values in (e.old_values, e.new_values):
                for key, value in (_load(values) or {}).items():
                    if key in USER_FIELDS and isinstance(value, int):
                        user_ids.add(value)
        user_ids |= {int(i) for i in ids["user"] if i.isdigit()}
        self.users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
        versions = [(m["code"], int(m["number"])) for i in ids["document_version"] if (m := _VERSION_ID.fullmatch(i))]
        codes = ids["document"] | {code for code, _n in versions}
        self.docs = {d.code: d for d in db.session.scalars(select(Document).where(Document.code.in_(codes)))}
        self.visible_docs = set(db.session.scalars(
            scope.visible_document_ids().where(Document.id.in_([d.id for d in self.docs.values()]))))
        self.versions = {(v.document_id, v.number): v for v in db.session.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id.in_([d.id for d in self.docs.values()]),
            DocumentVersion.number.in_({n for _code, n in versions})))}
        self.sites = {str(s.id): s for s in db.session.scalars(select(Site).where(Site.id.in_(_ints(ids["site"]))))}
        self.processes = {str(p.id): p for p in db.session.scalars(
            select(Process).where(Process.id.in_(_ints(ids["process"]))))}
        self.audits = {str(a.id): a for a in db.session.scalars(select(Audit).where(Audit.id.in_(_ints(ids["audit"]))))}
        self.certificates = {c.number: c for c in db.session.scalars(
            select(Certificate).where(Certificate.number.in_(ids["certificate"])))}
        self.standards = ({s.code: s.slug for s in db.session.scalars(select(Standard))} if ids["clause"] else {})

    def user_name(self, user_id: int | None, fallback: str) -> str:
        user = self.users.get(user_id) if user_id is not None else None
        return user.name if user else str(ACTOR_LABELS.get(fallback, fallback))

    def actor(self, ev: AuditEvent) -> _Obj:
        name = self.user_name(ev.actor_id, ev.actor_label)
        url = (url_for("users.edit", user_id=ev.actor_id)
               if ev.actor_id is not None and ev.actor_id in self.users and self.scope.can("manage_users") else None)
        return _Obj(name, url)

    def obj(self, ev: AuditEvent) -> _Obj | None:
        """The event's object as the reader may see it (None when the event names none)."""
        kind, oid = ev.object_type, ev.object_id
        if oid is None:
            return None
        handler = self._handlers().get(kind)
        if handler:
            return handler(oid)
        return _Obj(oid if oid.startswith(f"{kind}:") else f"{kind} {oid}")  # records: "nonconformity:12#3"

    def _handlers(self) -> dict[str, Callable[[str], _Obj]]:
        return {"document": self._document, "document_version": self._version, "user": self._user,
                "site": self._site, "process": self._process, "audit": self._audit, "certificate": self._certificate,
                "scope": self._scope, "clause": self._clause, "blob": lambda oid: _Obj(oid[:12] + "…"),
                "login": lambda oid: _Obj(oid), "gift_threshold": lambda oid: _Obj(oid),
                "pack": lambda oid: _Obj(oid),  # a console build: its pack identifier
                "pack_job": lambda oid: _Obj(_("request #%(id)s", id=oid))}

    def _document(self, code: str) -> _Obj:
        doc = self.docs.get(code)
        if doc is None or doc.id not in self.visible_docs:
            return _Obj(code, visible=doc is None)
        return _Obj(code, url_for("documents.detail", doc_id=doc.id))

    def _version(self, oid: str) -> _Obj:
        match = _VERSION_ID.fullmatch(oid)
        if not match:
            return _Obj(oid)
        code, number = match["code"], int(match["number"])
        doc = self.docs.get(code)
        version = self.versions.get((doc.id, number)) if doc else None
        label = f"{code} v{number}"
        if doc is None or version is None:
            return _Obj(label)
        seen = doc.id in self.visible_docs and (not self.scope.approved_only or version.status in EVER_APPROVED)
        if not seen:
            return _Obj(label, visible=False)
        if version.revision_label:
            label = f"{code} {version.revision_label} (v{number})"
        return _Obj(label, url_for("documents.detail", doc_id=doc.id))

    def _user(self, oid: str) -> _Obj:
        user = self.users.get(int(oid)) if oid.isdigit() else None
        if user is None:
            return _Obj(_("account %(id)s", id=oid))
        return _Obj(user.name, url_for("users.edit", user_id=user.id) if self.scope.can("manage_users") else None)

    def _site(self, oid: str) -> _Obj:
        site = self.sites.get(oid)
        if site is None:
            return _Obj(_("site %(id)s", id=oid))
        return _Obj(f"{site.code} {site.name(self.lang)}", url_for("org.site", site_id=site.id))

    def _process(self, oid: str) -> _Obj:
        proc = self.processes.get(oid)
        if proc is None:
            return _Obj(_("process %(id)s", id=oid))
        return _Obj(f"{proc.code} {proc.name(self.lang)}", url_for("org.processes") + f"#process-{proc.id}")

    def _audit(self, oid: str) -> _Obj:
        item = self.audits.get(oid)
        if item is None:
            return _Obj(_("audit %(id)s", id=oid))
        label = _("the audit “%(type)s” of %(day)s", type=AUDIT_TYPE_LABELS.get(item.audit_type, item.audit_type),
                  day=fmt_date(item.planned_start))
        return _Obj(label, url_for("programme.audit", audit_id=item.id))

    def _certificate(self, oid: str) -> _Obj:
        cert = self.certificates.get(oid)
        return _Obj(oid, url_for("programme.certificate", certificate_id=cert.id) if cert else None)

    def _scope(self, oid: str) -> _Obj:
        return _Obj(_("the certification scope %(name)s", name=SCOPE_LABELS.get(oid, oid)), url_for("programme.scope"))

    def _clause(self, oid: str) -> _Obj:
        code, _sep, number = oid.rpartition(" ")
        slug = self.standards.get(code)
        return _Obj(oid, url_for("clauses.detail", slug=slug, number=number) if slug else None)

    def value(self, key: str, value: Any, object_type: str = "") -> str:
        """A stored value as a person reads it: labels for codes, names for user ids, dates in their format."""
        if value is None or value == "" or value == []:
            return "—"
        if isinstance(value, bool):
            return str(_("Yes") if value else _("No"))
        if key in USER_FIELDS and isinstance(value, int):
            return self.user_name(value, str(value))
        if key == "size" and isinstance(value, int):
            return fmt_size(value)
        if isinstance(value, str):
            labels = VERSION_STATUS_LABELS if key == "status" and object_type == "document_version" else \
                VALUE_LABELS.get(key)
            if labels and value in labels:
                return str(labels[value])
            if _DAY.fullmatch(value):
                return _day(value)
            if _MOMENT.fullmatch(value):
                return _moment(value)
            return value
        if isinstance(value, list):
            return ", ".join(self.value(key, v) for v in value)
        if isinstance(value, dict):
            return "; ".join(f"{_field(k)}: {self.value(k, v)}" for k, v in value.items())
        return str(value)


def _ints(values: Iterable[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


def _load(text: str | None) -> dict[str, Any] | None:
    """Decoded JSON values (a non-object is shown under one "value" row)."""
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return {"value": text}
    return data if isinstance(data, dict) else {"value": data}


def _field(key: str) -> str:
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


def _day(text: str) -> str:
    try:
        return fmt_date(date.fromisoformat(text))
    except ValueError:
        return text


def _moment(text: str) -> str:
    try:
        return fmt_datetime(datetime.fromisoformat(text.replace("Z", "+00:00")), "short")
    except ValueError:
        return text


def _changes(batch: _Batch, ev: AuditEvent) -> list[FieldChange]:
    old, new = _load(ev.old_values) or {}, _load(ev.new_values) or {}
    keys = list(new) + [k for k in old if k not in new]
    kind = ev.object_type
    return [FieldChange(_field(k), batch.value(k, old[k], kind) if k in old else "",
                        batch.value(k, new[k], kind) if k in new else "") for k in keys]


def describe(events: list[AuditEvent], scope: AccessScope) -> list[EventView]:
    """Sentences and change tables for a page of events, with every object they name loaded in a few queries."""
    batch = _Batch(events, scope)
    out = []
    for ev in events:
        actor, obj = batch.actor(ev), batch.obj(ev)
        entry = ACTIONS.get(ev.action)
        values = {"actor": actor.markup(), "object": obj.markup() if obj else Markup(""),
                  "action": ev.action}
        template = str(entry[2]) if entry else str(GENERIC if obj else GENERIC_NO_OBJECT)
        sentence = escape(template) % values  # the template is escaped; the values are escaped unless Markup
        withheld = obj is not None and not obj.visible
        out.append(EventView(ev, sentence, [] if withheld else _changes(batch, ev), withheld))
    return out
