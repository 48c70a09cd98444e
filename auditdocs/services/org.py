"""Keep the site tree and the process map: create and update (never delete), validated and audited.

Why here: the web pages, `import-org` and the demo must apply the same rules — codes unique ignoring case, one central
function that stays active and at the top, no cycle in the tree, responsible people who can act — and leave the same
before/after trail.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..events import announce
from ..extensions import db
from ..models import Process, Site, User
from ..models.org import CODE_MAX, PROCESS_CATEGORIES
from ..policy import AccessScope, scope_of
from . import Forbidden, ServiceError, audit

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
NAME_MAX, REGION_MAX, ADDRESS_MAX = 200, 100, 500
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # can disguise what a name says


class FieldErrors(ServiceError):
    """Refusals that belong to fields of a form (or columns of a spreadsheet row): field name -> messages."""

    def __init__(self, errors: dict[str, list[Any]], status: int = 400) -> None:
        first = next(iter(errors.values()))[0]
        super().__init__(first, status)
        self.errors = errors


@dataclass
class SiteData:
    """What a person states about a site (ids for the parent and the responsible person)."""

    code: str
    name_es: str
    name_en: str | None = None
    region: str | None = None
    address: str | None = None
    parent_id: int | None = None
    responsible_id: int | None = None
    active: bool = True


@dataclass
class ProcessData:
    """What a person states about a process of the map."""

    code: str
    name_es: str
    name_en: str | None = None
    category: str = "operational"
    owner_id: int | None = None
    active: bool = True


def clean(value: str | None) -> str | None:
    """Surrounding spaces dropped; an empty text means "none"."""
    value = (value or "").strip()
    return value or None


def text_problem(value: str | None, limit: int) -> Any:
    """Why a text cannot be stored (control characters, too long), or None."""
    if value is None:
        return None
    if any(unicodedata.category(ch) == "Cc" or ch in _BIDI for ch in value):
        return _l("Contains control characters; type it again without them.")
    if len(value) > limit:
        return _l("At most %(n)d characters (this has %(len)d).", n=limit, len=len(value))
    return None


def code_problem(code: str | None) -> Any:
    """Why a code is not acceptable, or None."""
    if not code:
        return _l("A code is required.")
    if len(code) > CODE_MAX:
        return _l("At most %(n)d characters (this has %(len)d).", n=CODE_MAX, len=len(code))
    if not CODE_RE.match(code):
        return _l("Use letters, digits, “.”, “_” or “-”, starting with a letter or digit (e.g. UT-CUSCO).")
    return None


def person_problem(user: User | None) -> Any:
    """A responsible person or process owner must be able to act: an enabled account, not an external auditor."""
    if user is None or not user.active:
        return _l("Choose an enabled account.")
    if AccessScope.of(user).read_only:
        return _l("An external auditor cannot be responsible for a site or process.")
    return None


def eligible_people() -> list[User]:
    """Accounts that may be responsible for a site or own a process."""
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)).all()
    return [u for u in users if person_problem(u) is None]


def _need_right(actor: User | None) -> None:
    """The command line (no actor) runs with the operator's rights; a person needs manage_org."""
    if actor is not None and not scope_of(actor).can("manage_org"):
        raise Forbidden(_l("Your role cannot change sites or processes."))


def _common(code: str | None, name_es: str | None, name_en: str | None) -> dict[str, list[Any]]:
    """Problems of the fields sites and processes share."""
    problems = {"code": code_problem(code), "name_es": text_problem(name_es, NAME_MAX) if name_es
                else _l("A name in Spanish is required."), "name_en": text_problem(name_en, NAME_MAX)}
    return {k: [v] for k, v in problems.items() if v is not None}


def _code_changes(obj: Site | Process | None, code: str) -> bool:
    """A new object, or a code changed beyond its case (the existing one is unique already)."""
    return obj is None or obj.code.lower() != code.lower()


def _code_taken(model: type[Site] | type[Process], code: str, own_id: int | None) -> bool:
    stmt = select(model.id).where(func.lower(model.code) == code.lower())
    if own_id is not None:
        stmt = stmt.where(model.id != own_id)
    return db.session.scalar(stmt.limit(1)) is not None


def _person(user_id: int | None, field: str, errors: dict[str, list[Any]]) -> None:
    if user_id is not None and (problem := person_problem(db.session.get(User, user_id))) is not None:
        errors.setdefault(field, []).append(problem)


def central() -> Site | None:
    """The central function (head office), when there is one."""
    return db.session.scalar(select(Site).where(Site.parent_id.is_(None)).order_by(Site.id).limit(1))


def _check_site(data: SiteData, site: Site | None) -> SiteData:
    """Clean and validate against the tree as it is; raise every field's problems at once."""
    data = SiteData(code=(data.code or "").strip(), name_es=clean(data.name_es) or "", name_en=clean(data.name_en),
                    region=clean(data.region), address=clean(data.address), parent_id=data.parent_id or None,
                    responsible_id=data.responsible_id or None, active=bool(data.active))
    errors = _common(data.code, data.name_es, data.name_en)
    for name, limit in (("region", REGION_MAX), ("address", ADDRESS_MAX)):
        if (problem := text_problem(getattr(data, name), limit)) is not None:
            errors[name] = [problem]
    if "code" not in errors and _code_changes(site, data.code) and _code_taken(Site, data.code,
                                                                                 site.id if site else None):
        errors["code"] = [_l("Another site already has the code %(code)s.", code=data.code)]
    _person(data.responsible_id, "responsible_id", errors)
    parent = db.session.get(Site, data.parent_id) if data.parent_id else None
    if site is not None and site.parent_id is None:
        if data.parent_id is not None:
            errors["parent_id"] = [_l("The central function cannot be placed under another site.")]
        if not data.active:
            errors["active"] = [_l("The central function cannot be deactivated.")]
    elif data.parent_id is None:
        if (head := central()) is not None:
            errors["parent_id"] = [_l("%(code)s is already the central function; choose the site this one belongs "
                                      "to.", code=head.code)]
    elif parent is None:
        errors["parent_id"] = [_l("The parent site does not exist.")]
    elif site is not None and site.id in _chain(parent):
        errors["parent_id"] = [_l("A site cannot be placed under itself or one of its own offices.")]
    if errors:
        raise FieldErrors(errors)
    return data


def _chain(site: Site) -> list[int]:
    """The site and those above it (a few steps: the tree is shallow), stopping at a loop written by hand."""
    found: list[int] = []
    current: Site | None = site
    while current is not None and current.id not in found:
        found.append(current.id)
        current = db.session.get(Site, current.parent_id) if current.parent_id else None
    return found


def _values(obj: Site | Process, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


SITE_FIELDS = tuple(SiteData.__dataclass_fields__)
PROCESS_FIELDS = tuple(ProcessData.__dataclass_fields__)


def _changes(obj: Site | Process, wanted: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(old, new) of the fields that would change."""
    old = {k: getattr(obj, k) for k, v in wanted.items() if getattr(obj, k) != v}
    return old, {k: wanted[k] for k in old}


def site_changes(site: Site, data: SiteData) -> dict[str, Any]:
    """The fields an update would change (empty: nothing to do), after validation."""
    return _changes(site, asdict(_check_site(data, site)))[1]


def create_site(data: SiteData, actor: User | None = None) -> Site:
    """A new site; the first one without a parent is the central function."""
    _need_right(actor)
    data = _check_site(data, None)
    site = Site(**asdict(data))
    db.session.add(site)
    db.session.flush()
    audit.record("site.create", "site", site.id, new=_values(site, SITE_FIELDS), actor=actor,
                 actor_label=None if actor else "cli")
    announce("site", site.id, "create")
    return site


def update_site(site: Site, data: SiteData, actor: User | None = None) -> bool:
    """Change a site (deactivate rather than delete); False when nothing changed."""
    _need_right(actor)
    old, new = _changes(site, asdict(_check_site(data, site)))
    return _apply(site, "site", old, new, actor)


def _check_process(data: ProcessData, process: Process | None) -> ProcessData:
    data = ProcessData(code=(data.code or "").strip(), name_es=clean(data.name_es) or "",
                       name_en=clean(data.name_en), category=(data.category or "").strip(),
                       owner_id=data.owner_id or None, active=bool(data.active))
    errors = _common(data.code, data.name_es, data.name_en)
    if data.category not in PROCESS_CATEGORIES:
        errors["category"] = [_l("Choose strategic, operational or support.")]
    if "code" not in errors and _code_changes(process, data.code) and _code_taken(Process, data.code,
                                                                                    process.id if process else None):
        errors["code"] = [_l("Another process already has the code %(code)s.", code=data.code)]
    _person(data.owner_id, "owner_id", errors)
    if errors:
        raise FieldErrors(errors)
    return data


def process_changes(process: Process, data: ProcessData) -> dict[str, Any]:
    """The fields an update would change, after validation."""
    return _changes(process, asdict(_check_process(data, process)))[1]


def create_process(data: ProcessData, actor: User | None = None) -> Process:
    """A new process of the map, listed after the others of its category."""
    _need_right(actor)
    data = _check_process(data, None)
    last = db.session.scalar(select(func.max(Process.sort_order)).where(Process.category == data.category))
    process = Process(**asdict(data), sort_order=(last or 0) + 1)
    db.session.add(process)
    db.session.flush()
    audit.record("process.create", "process", process.id, new=_values(process, PROCESS_FIELDS), actor=actor,
                 actor_label=None if actor else "cli")
    announce("process", process.id, "create")
    return process


def update_process(process: Process, data: ProcessData, actor: User | None = None) -> bool:
    """Change a process (deactivate rather than delete); False when nothing changed."""
    _need_right(actor)
    old, new = _changes(process, asdict(_check_process(data, process)))
    return _apply(process, "process", old, new, actor)


def _apply(obj: Site | Process, kind: str, old: dict[str, Any], new: dict[str, Any], actor: User | None) -> bool:
    if not new:
        return False
    for name, value in new.items():
        setattr(obj, name, value)
    db.session.flush()
    audit.record(f"{kind}.update", kind, obj.id, old=old, new=new, actor=actor, actor_label=None if actor else "cli")
    announce(kind, obj.id, "update")
    return True


def site_tree(include: Callable[[Site], bool] = lambda _s: True) -> list[tuple[Site, int]]:
    """Every site with its depth, the central function first, each site followed by its offices (by code)."""
    sites = db.session.scalars(select(Site).options(selectinload(Site.responsible), selectinload(Site.parent))
                               .order_by(Site.code)).all()
    children: dict[int | None, list[Site]] = {}
    for site in sites:
        children.setdefault(site.parent_id, []).append(site)
    out: list[tuple[Site, int]] = []
    seen: set[int] = set()
    todo = [(s, 0) for s in reversed(children.get(None, []))]
    while todo:
        site, depth = todo.pop()
        if site.id in seen:
            continue
        seen.add(site.id)
        if include(site):
            out.append((site, depth))
        todo.extend((c, depth + 1) for c in reversed(children.get(site.id, [])))
    out.extend((s, 0) for s in sites if s.id not in seen and include(s))  # unreachable only if written by hand
    return out


def processes_by_category() -> dict[str, list[Process]]:
    """The process map, strategic, operational and support, each in its order."""
    rows = db.session.scalars(select(Process).options(selectinload(Process.owner))
                              .order_by(Process.sort_order, Process.code)).all()
    return {category: [p for p in rows if p.category == category] for category in PROCESS_CATEGORIES}
