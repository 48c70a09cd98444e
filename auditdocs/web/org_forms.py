"""Forms for the site tree and the process map; choices (sites, people) are filled per request."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..models import Process, Site
from ..models.org import CODE_MAX, PROCESS_CATEGORIES
from ..services import org as svc
from .forms import opts
from .helpers import current_lang

CATEGORY_LABELS = {
    "strategic": _l("Strategic processes"),
    "operational": _l("Operational processes"),
    "support": _l("Support processes"),
}
CATEGORY_CHOICE_LABELS = {"strategic": _l("Strategic"), "operational": _l("Operational"), "support": _l("Support")}
NONE = 0  # the "no one" / "no parent" choice of an integer select


def _choice_id(value: object) -> int:
    """An integer choice (none: 0); anything else (a tampered form) becomes an id that matches no choice."""
    if value is None or value == "":
        return NONE
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return -1


def people_choices() -> list[tuple[object, object]]:
    """Enabled accounts that may be responsible (external auditors are not offered)."""
    return [(NONE, _l("— nobody yet —")), *((u.id, f"{u.name} <{u.email}>") for u in svc.eligible_people())]


class SiteForm(FlaskForm):
    """A site: where it sits in the tree, who answers for it, whether it is still in use."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=CODE_MAX)],
                       description=_l("Unique, e.g. UT-CUSCO or UT-CUSCO-QUILLABAMBA."))
    name_es = StringField(_l("Name (Spanish)"), validators=[DataRequired(), Length(max=svc.NAME_MAX)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=svc.NAME_MAX)],
                          description=_l("Optional: pages in English show the Spanish name when empty."))
    parent_id = SelectField(_l("Belongs to"), coerce=_choice_id, choices=[])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=svc.REGION_MAX)])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=svc.ADDRESS_MAX)])
    responsible_id = SelectField(_l("Responsible person"), coerce=_choice_id, choices=[])
    active = BooleanField(_l("Active"), default=True,
                          description=_l("Sites are never deleted: untick to deactivate one that closed."))

    def fill(self, site: Site | None = None) -> SiteForm:
        """Parents: every site but this one and its offices; the central function belongs to none."""
        lang, inactive = current_lang(), _("inactive")
        if site is not None and site.is_central:
            self.parent_id.choices = opts([(NONE, _l("— none: this is the central function —"))])
        else:
            below = set() if site is None else set(_offices(site))
            sites = [(s, depth) for s, depth in svc.site_tree() if s.id not in below]
            parents = [(s.id, f"{'— ' * depth}{s.code} · {s.name(lang)}"
                        + ("" if s.active else f" ({inactive})")) for s, depth in sites]
            first = (NONE, _l("— none: this is the central function —")) if svc.central() is None else None
            self.parent_id.choices = opts(([first] if first else []) + parents)
        self.responsible_id.choices = opts(people_choices())
        return self

    def data_for_service(self) -> svc.SiteData:
        """The form's values as the service takes them."""
        return svc.SiteData(code=self.code.data or "", name_es=self.name_es.data or "", name_en=self.name_en.data,
                            region=self.region.data, address=self.address.data,
                            parent_id=self.parent_id.data or None, responsible_id=self.responsible_id.data or None,
                            active=bool(self.active.data))


def _offices(site: Site) -> list[int]:
    """The site and every site under it (they cannot become its parent)."""
    tree = svc.site_tree()
    found: set[int] = {site.id}
    for s, _depth in tree:  # the tree lists each site after its parent
        if s.parent_id in found:
            found.add(s.id)
    return sorted(found)


class ProcessForm(FlaskForm):
    """A process of the map: its category and its owner."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=CODE_MAX)],
                       description=_l("Unique, e.g. PO-01."))
    name_es = StringField(_l("Name (Spanish)"), validators=[DataRequired(), Length(max=svc.NAME_MAX)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=svc.NAME_MAX)])
    category = SelectField(_l("Category"), choices=opts((c, CATEGORY_CHOICE_LABELS[c]) for c in PROCESS_CATEGORIES),
                           default="operational")
    owner_id = SelectField(_l("Process owner"), coerce=_choice_id, choices=[])
    active = BooleanField(_l("Active"), default=True,
                          description=_l("Processes are never deleted: untick to deactivate one no longer run."))

    def fill(self, _process: Process | None = None) -> ProcessForm:
        self.owner_id.choices = opts(people_choices())
        return self

    def data_for_service(self) -> svc.ProcessData:
        """The form's values as the service takes them."""
        return svc.ProcessData(code=self.code.data or "", name_es=self.name_es.data or "", name_en=self.name_en.data,
                               category=self.category.data or "", owner_id=self.owner_id.data or None,
                               active=bool(self.active.data))
