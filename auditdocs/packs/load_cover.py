"""The cover's facts: organisation, standards, certification scope, places, audit, period, who and when.

Why the scope statement falls back: an organisation certified with one integrated scope has no statement per
standard, and one certified per standard has no integrated one; the cover names whichever the pack's standards have.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Standard
from ..models.programme import INTEGRATED, Audit, Scope
from ..timeutil import as_utc
from ..web.programme_forms import AUDIT_TYPE_LABELS
from .content import Cover
from .places import Places
from .spec import PackSpec


def _scope_statements(standards: list[Standard], lang: str) -> list[str]:
    """The integrated statement for an integrated pack (else each standard's), each standard's own for one standard
    (else the integrated one); labelled by standard when there are several."""
    scopes = {s.key: s for s in db.session.scalars(select(Scope))}
    integrated = scopes.get(INTEGRATED)
    integrated_text = integrated.statement(lang).strip() if integrated is not None else ""
    if len(standards) > 1 and integrated_text:
        return [integrated_text]
    found: list[tuple[str, str]] = []
    for standard in standards:
        own = scopes.get(standard.slug)
        text = own.statement(lang).strip() if own is not None else ""
        found.append((standard.code, text or integrated_text))
    texts = [(code, text) for code, text in found if text]
    if len({text for _code, text in texts}) == 1:
        return [texts[0][1]]
    return [f"{code}: {text}" for code, text in texts]


def audit_label(audit: Audit) -> str:
    """How the cover names one audit of the programme: its type, its days and who audits."""
    start = audit.actual_start or audit.planned_start
    end = audit.actual_end or audit.planned_end or start
    days = start.isoformat() if end == start else f"{start.isoformat()} – {end.isoformat()}"
    kind = str(AUDIT_TYPE_LABELS.get(audit.audit_type, audit.audit_type))
    return f"{kind}, {days}, {audit.auditing_body}"


def cover_of(spec: PackSpec, places: Places, *, generated_by: str, generated_at: datetime, pack_id: str) -> Cover:
    """The cover in the pack's language."""
    lang = spec.lang
    standards = [s for s in db.session.scalars(select(Standard).order_by(Standard.sort_order))
                 if s.code in spec.standards]
    return Cover(
        organisation=str(current_app.config.get("ORG_NAME") or ""),
        standards=[f"{s.code} — {s.title_es if lang == 'es' and s.title_es else s.title_en}" for s in standards],
        scope=_scope_statements(standards, lang),
        sites=[f"{s.code} — {s.name(lang)}" for s in places.sites],
        processes=[f"{p.code} — {p.name(lang)}" for p in places.processes],
        audit=audit_label(places.audit) if places.audit is not None else None,
        date_from=spec.date_from, date_to=spec.date_to, generated_at=as_utc(generated_at).astimezone(UTC),
        generated_by=generated_by, pack_id=pack_id)

