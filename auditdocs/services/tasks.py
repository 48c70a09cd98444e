"""What a person owes today: drafts waiting for their approval, reviews of documents they own, and (later) their
corrective actions and effectiveness checks.

Why a registry: the task page and the dashboard panel must list the same things in the same order, and areas built
later add their own kind of task (`register_task_source`, as site_signals.register_counter does) without either
reader changing. Each source says which capability makes its tasks possible, so the menu offers "My tasks" only to
people who can have some.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Document, DocumentVersion
from ..policy import AccessScope
from .counts import Count, count_capped

REVIEW_NOTICE = timedelta(days=30)  # a review due within this many days is a task already


@dataclass(frozen=True)
class Task:
    """One thing to do: what, on which object (the page that does it), and by when."""

    kind: str  # "approve", "review"; later "action", "effectiveness"
    action: Any  # what to do, lazily translated: "Approve", "Review"
    code: str  # the object as people name it: "PR-QA-001 v3"
    title: str
    endpoint: str  # the page where it is done, with its url_for values
    params: dict[str, Any] = field(default_factory=dict)
    due: date | None = None
    since: datetime | None = None  # waiting since (drafts)

    def overdue(self, today: date) -> bool:
        """Past its due date."""
        return self.due is not None and self.due < today

    def urgency(self) -> tuple[bool, date, str]:
        """Sort key: dated tasks first, earliest due first, then the longest waiting."""
        return (self.due is None, self.due or date.max, self.since.isoformat() if self.since else "~")


@dataclass(frozen=True)
class TaskBatch:
    """One source's tasks for one person: the first ones, and how many there are in all."""

    tasks: list[Task]
    total: Count


Fetch = Callable[[AccessScope, date, int], TaskBatch]


@dataclass(frozen=True)
class TaskSource:
    """A kind of task: its name, the capability a person needs to have such tasks (None: anyone signed in), and the
    function that lists them for a scope on a day, at most `limit`."""

    name: str
    label: Any
    capability: str | None
    fetch: Fetch


_SOURCES: dict[str, TaskSource] = {}


def register_task_source(name: str, label: Any, fetch: Fetch, capability: str | None = None) -> None:
    """Declare a kind of task; the page, the panel and the menu pick it up."""
    _SOURCES[name] = TaskSource(name, label, capability, fetch)


def sources_for(scope: AccessScope) -> list[TaskSource]:
    """The kinds of task this person can have (none for a visitor or an external auditor)."""
    if scope.user_id is None or scope.read_only:
        return []
    return [s for s in _SOURCES.values() if s.capability is None or scope.can(s.capability)]


def can_have_tasks(scope: AccessScope) -> bool:
    """Whether "My tasks" means anything for this person."""
    return bool(sources_for(scope))


@dataclass(frozen=True)
class MyTasks:
    """Every source's tasks merged in order of urgency."""

    tasks: list[Task]
    totals: dict[str, Count]
    labels: dict[str, Any]

    @property
    def total(self) -> int:
        return sum(c.value for c in self.totals.values())

    @property
    def capped(self) -> bool:
        """Some source has more tasks than were listed."""
        return any(c.capped for c in self.totals.values()) or self.total > len(self.tasks)


def my_tasks(scope: AccessScope, today: date, limit: int = 200) -> MyTasks:
    """The person's tasks, most urgent first, at most `limit` (each source is asked for that many)."""
    tasks: list[Task] = []
    totals: dict[str, Count] = {}
    labels: dict[str, Any] = {}
    for source in sources_for(scope):
        batch = source.fetch(scope, today, limit)
        tasks += batch.tasks
        totals[source.name], labels[source.name] = batch.total, source.label
    tasks.sort(key=Task.urgency)
    return MyTasks(tasks[:limit], totals, labels)


# -- the document tasks ----------------------------------------------------------------------------------------------


def approvals(scope: AccessScope, _today: date, limit: int) -> TaskBatch:
    """Drafts this person may approve: not their own upload, of a document they see that is not withdrawn."""
    stmt = (select(DocumentVersion, Document).join(Document, Document.id == DocumentVersion.document_id)
            .where(DocumentVersion.status == "draft", Document.status != "obsolete",
                   DocumentVersion.uploaded_by_id != scope.user_id, scope.document_condition()))
    rows = db.session.execute(stmt.order_by(DocumentVersion.uploaded_at, DocumentVersion.id).limit(limit)).all()
    tasks = [Task("approve", _l("Approve"), f"{doc.code} {version.label}", doc.title, "documents.detail",
                  {"doc_id": doc.id}, due=version.effective_date,
                  since=version.uploaded_at)
             for version, doc in rows if scope.refuse_approve(version) is None]
    return TaskBatch(tasks, count_capped(stmt))


def reviews(scope: AccessScope, today: date, limit: int) -> TaskBatch:
    """Documents in force that this person owns whose periodic review is overdue or due within REVIEW_NOTICE."""
    stmt = select(Document).where(Document.owner_id == scope.user_id, Document.status == "active",
                                  Document.next_review_date <= today + REVIEW_NOTICE, scope.document_condition())
    docs = db.session.scalars(stmt.order_by(Document.next_review_date, Document.id).limit(limit)).all()
    tasks = [Task("review", _l("Review"), doc.code, doc.title, "documents.detail", {"doc_id": doc.id},
                  due=doc.next_review_date) for doc in docs]
    return TaskBatch(tasks, count_capped(stmt))


register_task_source("approvals", _l("Versions waiting for my approval"), approvals, capability="approve_documents")
register_task_source("reviews", _l("Reviews I owe"), reviews, capability="upload_documents")
