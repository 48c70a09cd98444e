"""Forms for controlled documents; choices are filled per request (users, clauses)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ...extensions import db
from ...labels import CONFIDENTIALITY_LABELS, KIND_LABELS, LANGUAGE_LABELS
from ...models import Clause, Process, Site, Standard, User
from ...models.documents import CONFIDENTIALITY, KINDS, LANGUAGES
from ...policy import AccessScope
from ..forms import opts
from ..helpers import current_lang
from ..params import int_or_none
from ..placing import process_groups, site_tree
from .picker import StandardBranch, clause_tree


def clause_choices() -> list[SelectChoice]:
    """Every clause, written with its edition, in the user's language."""
    lang = current_lang()
    rows = db.session.execute(
        select(Clause, Standard.code).join(Standard).order_by(Standard.sort_order, Clause.sort_key)
    ).all()
    return opts((c.id, f"{code} {c.number} — {c.title(lang)}") for c, code in rows)


def user_choices() -> list[SelectChoice]:
    """Active users who can own or receive a document."""
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)).all()
    return opts((u.id, f"{u.name} <{u.email}>") for u in users)


def owner_choices(keep: object = None) -> list[SelectChoice]:
    """Active users who may own a document: those who can register documents (never an external auditor); the
    current owner stays offered, so saving other fields never moves the document silently."""
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)).all()
    return opts((u.id, f"{u.name} <{u.email}>") for u in users
                if u.id == keep or AccessScope.of(u).can("upload_documents"))


PLACEMENT_HELP = _l("Tick none for the whole organisation. A document placed at a site also concerns the sites under "
                    "it.")


class PlacementField(SelectMultipleField):
    """Ticked sites or processes (checkboxes): a value the form did not offer is an error at the field, never
    silently dropped."""

    message: Any
    unknown: list[str]
    tree: list[tuple[Site, int]]
    groups: list[tuple[str, list[Process]]]

    def __init__(self, label: Any, message: Any, **kwargs: Any) -> None:
        super().__init__(label, coerce=int, choices=[], **kwargs)
        self.message, self.unknown, self.tree, self.groups = message, [], [], []

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = list(dict.fromkeys(n for n in (int_or_none(v) for v in valuelist) if n is not None))
        self.unknown = [str(v)[:20] for v in valuelist if int_or_none(v) is None]

    def pre_validate(self, form: Any) -> None:
        offered = {int(c.value) for c in self.choices if isinstance(c, SelectChoice)}
        unknown = self.unknown + [str(n) for n in self.data or [] if n not in offered]
        if unknown:
            raise ValidationError(str(self.message) % {"ref": ", ".join(unknown[:5])})

    @property
    def blocks(self) -> list[list[tuple[Site, int]]]:
        """The tree cut where each top site or regional unit starts, so the units can sit side by side with their
        offices under them."""
        out: list[list[tuple[Site, int]]] = []
        for site, depth in self.tree:
            if depth <= 1 or not out:
                out.append([])
            out[-1].append((site, depth))
        return out

    def offer_sites(self, placed: Collection[int] = ()) -> None:
        """The active sites as a tree, and those the document is already placed at."""
        self.tree = site_tree(placed)
        self.choices = opts((s.id, s.code) for s, _depth in self.tree)

    def offer_processes(self, placed: Collection[int] = ()) -> None:
        """The active processes by category, and those the document is already placed in."""
        self.groups = process_groups(placed)
        self.choices = opts((p.id, p.code) for _label, ps in self.groups for p in ps)


def site_field() -> PlacementField:
    return PlacementField(_l("Sites it concerns"), _l("Unknown or inactive site (%(ref)s): tick sites from the list."),
                          description=PLACEMENT_HELP)


class ClauseField(PlacementField):
    """Ticked clauses of both standards (the clause picker): the same checkbox field whether or not the browser runs
    the picker's script, and a clause the catalogue does not hold is refused at the field."""

    clause_tree: list[StandardBranch]

    def __init__(self, label: Any, **kwargs: Any) -> None:
        super().__init__(label, _l("Unknown clause (%(ref)s): tick clauses from the list."), **kwargs)
        self.clause_tree = []

    def offer_clauses(self, tree: list[StandardBranch] | None = None) -> None:
        """Every clause of the catalogue, as the tree the picker shows."""
        self.clause_tree = clause_tree() if tree is None else tree
        self.choices = opts((n.id, n.ref) for branch in self.clause_tree for n in branch.walk())


def process_field() -> PlacementField:
    return PlacementField(_l("Processes it concerns"),
                          _l("Unknown or inactive process (%(ref)s): tick processes from the list."),
                          description=_l("Tick none when it concerns every process."))


class VersionFields(FlaskForm):
    """The file and what the uploader says about it."""

    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))])
    revision_label = StringField(_l("Revision label"), validators=[Optional(), Length(max=40)],
                                 description=_l("As your organisation writes it, e.g. “v4” or “Rev. 3”."))
    change_note = TextAreaField(_l("Change note"), validators=[Optional(), Length(max=4000)])
    effective_date = DateField(_l("Effective date"), validators=[Optional()],
                               description=_l("When this version takes effect once approved "
                                              "(default: the approval date)."))


class DocumentForm(VersionFields):
    """Register a new document with its first version."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=60)],
                       description=_l("Unique, e.g. PR-QA-001."))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Kind"), choices=opts((k, KIND_LABELS[k]) for k in KINDS), default="procedure")
    language = SelectField(_l("Language"), choices=opts((k, LANGUAGE_LABELS[k]) for k in LANGUAGES))
    confidentiality = SelectField(_l("Confidentiality"),
                                  choices=opts((k, CONFIDENTIALITY_LABELS[k]) for k in CONFIDENTIALITY),
                                  description=_l("Restricted: seen only by administrators, the owner and "
                                                 "the people it is shared with."))
    owner = SelectField(_l("Owner"), coerce=int, choices=[])
    review_interval_months = IntegerField(_l("Review every (months)"), default=12,
                                          validators=[NumberRange(1, 120)])
    retention_years = IntegerField(_l("Retention (years)"), validators=[Optional(), NumberRange(1, 100)],
                                   description=_l("Empty: keep permanently."))
    clauses = ClauseField(_l("Clauses it serves"))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    sites = site_field()
    processes = process_field()

    def fill(self) -> DocumentForm:
        self.owner.choices = owner_choices()
        self.clauses.offer_clauses()
        self.sites.offer_sites()
        self.processes.offer_processes()
        return self


class VersionForm(VersionFields):
    """Upload a new version of an existing document."""


class ApproveForm(FlaskForm):
    """Approve a draft, optionally with an effective date in the future."""

    effective_date = DateField(_l("Effective date"), validators=[Optional()],
                               description=_l("Leave it empty for today. A later date keeps the version now in force "
                                              "until that day."))


class ReasonForm(FlaskForm):
    """Reject a draft or withdraw a document: a reason is required."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=5, max=4000)])


class ReviewForm(FlaskForm):
    """Record a periodic review with no change."""

    note = TextAreaField(_l("Review note"), validators=[Optional(), Length(max=4000)])


class ClausesForm(FlaskForm):
    """Map a document to clauses of both standards."""

    clauses = ClauseField(_l("Clauses it serves"))

    def fill(self) -> ClausesForm:
        self.clauses.offer_clauses()
        return self


class MetadataForm(FlaskForm):
    """Descriptive metadata; content changes only through new versions."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Kind"), choices=opts((k, KIND_LABELS[k]) for k in KINDS))
    language = SelectField(_l("Language"), choices=opts((k, LANGUAGE_LABELS[k]) for k in LANGUAGES))
    confidentiality = SelectField(_l("Confidentiality"),
                                  choices=opts((k, CONFIDENTIALITY_LABELS[k]) for k in CONFIDENTIALITY))
    owner_id = SelectField(_l("Owner"), coerce=int, choices=[])
    review_interval_months = IntegerField(_l("Review every (months)"), validators=[NumberRange(1, 120)])
    retention_years = IntegerField(_l("Retention (years)"), validators=[Optional(), NumberRange(1, 100)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    shared_with = SelectMultipleField(_l("Shared with (restricted documents)"), coerce=int, choices=[])
    sites = site_field()
    processes = process_field()

    def fill(self, placed_sites: Collection[int] = (), placed_processes: Collection[int] = ()) -> MetadataForm:
        """Choices for this request; the document's own inactive sites and processes stay offered."""
        self.owner_id.choices = owner_choices(keep=self.owner_id.object_data)
        self.shared_with.choices = user_choices()
        self.sites.offer_sites(placed_sites)
        self.processes.offer_processes(placed_processes)
        return self


class BulkClauseForm(FlaskForm):
    """Add the ticked clauses to the documents ticked in the register (the field keeps its old name, `clause`)."""

    clause = ClauseField(_l("Clauses to add to the ticked documents"))

    def fill(self) -> BulkClauseForm:
        self.clause.offer_clauses()
        return self
