"""A believable demo organisation: a public early-childhood programme in Peru, certified to both standards."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from ..extensions import db
from ..models import Clause, Document, Standard, User
from ..services import clauses as clause_service
from ..services.users import create_user
from . import ddg, documents, nonconformities, org, programme, risks

DEMO_USERS = (
    ("admin@demo.auditdocs.test", "Carmen Quispe (Administración)", "admin"),
    ("rosa.calidad@demo.auditdocs.test", "Rosa Huamán", "quality_officer"),
    ("jefe.calidad@demo.auditdocs.test", "Jorge Salazar (Jefe de Calidad)", "quality_officer"),
    ("luis.cumplimiento@demo.auditdocs.test", "Luis Mendoza", "compliance_officer"),
    ("ana.auditora@demo.auditdocs.test", "Ana Torres (Auditora externa)", "auditor"),
)


def has_data() -> bool:
    """True when the database already holds documents or users: demo data would mix with real data."""
    return bool(db.session.scalar(select(func.count(Document.id)))
                or db.session.scalar(select(func.count(User.id))))


def _password() -> str:
    return secrets.token_urlsafe(12)


def create_demo() -> list[tuple[str, str, str]]:
    """Create the demo accounts and records; returns (email, role, password) to print once."""
    accounts = []
    users: dict[str, User] = {}
    for email, name, role in DEMO_USERS:
        existing = db.session.scalar(select(User).where(User.email == email))
        if existing:
            users[role] = users.get(role) or existing
            if email.startswith("jefe."):
                users["approver"] = existing
            continue
        password = _password()
        user = create_user(email, name, role, password)
        users.setdefault(role, user)
        if email.startswith("jefe."):
            users["approver"] = user
        accounts.append((email, role, password))
    qo = users.get("quality_officer")
    design = db.session.scalar(
        select(Clause).join(Standard).where(Standard.slug == "iso9001_2015", Clause.number == "8.3")
    )
    if design is not None and design.applicable:
        clause_service.set_applicability(
            design, False,
            "El programa presta un servicio público definido por norma; no diseña productos ni servicios "
            "(ISO 9001:2015 4.3).",
            actor=qo,
        )
    org.create_org(users)
    documents.create(users)
    programme.create_programme(users)
    nonconformities.create(users)
    risks.create(users)
    ddg.create(users)
    return accounts
