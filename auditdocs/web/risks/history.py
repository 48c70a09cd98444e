"""A risk's history: every (re)assessment, approval and retirement with field-by-field changes, names instead of ids
(the nonconformity history's presentation). Auditors see the revisions up to the approved one."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import CorrectiveAction, RecordRevision, User
from ...models.records import id_list
from ...models.risks import RiskExercise, RiskMatrix
from ...policy import current_scope
from ...services import revisions
from ..helpers import current_lang, fmt_date
from ..nonconformities.history import Change, Names
from .blueprint import bp
from .common import risk_or_404
from .labels import CATEGORY_LABELS, EFFECTIVENESS_LABELS, RISK_STATUS_LABELS

KIND = "bribery_risk"
FIELD_LABELS: dict[str, Any] = {
    "reference": _l("Reference"), "title": _l("Title"), "process_id": _l("Process"), "activity": _l("Activity"),
    "site_id": _l("Site"), "associate_category": _l("Business associate or position"),
    "associate_detail": _l("Associate or position in detail"), "scenario": _l("Bribery scenario"),
    "inherent_likelihood": _l("Inherent likelihood"), "inherent_impact": _l("Inherent impact"),
    "inherent_score": _l("Inherent score"), "inherent_rating": _l("Inherent rating"),
    "control_document_ids": _l("Controls (controlled documents)"), "controls_description": _l("Existing controls"),
    "control_effectiveness": _l("Control effectiveness"), "residual_likelihood": _l("Residual likelihood"),
    "residual_impact": _l("Residual impact"), "residual_score": _l("Residual score"),
    "residual_rating": _l("Residual rating"), "treatment": _l("Treatment"),
    "treatment_action_ids": _l("Treatment actions (corrective actions)"), "owner_id": _l("Owner"),
    "next_review": _l("Next review"), "exercise_id": _l("Assessment exercise"), "matrix_id": _l("Risk matrix"),
    "status": _l("Status"), "assessed_by_id": _l("Assessed by"), "assessed_on": _l("Assessed on"),
    "approved_by_id": _l("Approved by"), "approved_on": _l("Approved on"),
    "approved_revision": _l("Approved revision"), "retire_reason": _l("Reason for retiring"),
}
USERS = ("owner_id", "assessed_by_id", "approved_by_id")
DATES = ("next_review", "assessed_on", "approved_on")
CODES: dict[str, dict[str, Any]] = {"associate_category": CATEGORY_LABELS, "status": RISK_STATUS_LABELS,
                                    "control_effectiveness": EFFECTIVENESS_LABELS}


class RiskNames(Names):
    """The nonconformity history's names, plus what a risk revision points at."""

    def __init__(self, snapshots: list[dict[str, Any]]) -> None:
        renamed = [{**s, "document_ids": s.get("control_document_ids")} for s in snapshots]
        super().__init__(renamed)
        users = {int(s[f]) for s in snapshots for f in USERS if isinstance(s.get(f), int)}
        self.users.update(self._load(User, users, lambda u: u.name))
        self.exercises = self._load(RiskExercise, {int(s["exercise_id"]) for s in snapshots
                                                   if isinstance(s.get("exercise_id"), int)},
                                    lambda e: f"{e.reference} · {e.name}")
        self.matrices = self._load(RiskMatrix, {int(s["matrix_id"]) for s in snapshots
                                                if isinstance(s.get("matrix_id"), int)},
                                   lambda m: str(_l("version %(num)d", num=m.version)))
        self.actions = self._load(CorrectiveAction, {n for s in snapshots
                                                     for n in id_list(s.get("treatment_action_ids") or None)},
                                  lambda a: a.code)

    def show_risk(self, name: str, value: Any, words: dict[str, str]) -> str:
        """A stored value of a risk revision as a person reads it."""
        if value is None or value == "":
            return "—"
        if name in USERS:
            return self.users.get(int(value), f"#{value}")
        if name == "exercise_id":
            return self.exercises.get(int(value), f"#{value}")
        if name == "matrix_id":
            return self.matrices.get(int(value), f"#{value}")
        if name == "control_document_ids":
            return self.show("nonconformity", "document_ids", value)
        if name == "treatment_action_ids":
            return ", ".join(self.actions.get(n, f"#{n}") for n in id_list(str(value))) or "—"
        if name in ("inherent_rating", "residual_rating"):
            return words.get(str(value), str(value))
        if name in CODES:
            return str(CODES[name].get(str(value), value))
        if name in DATES:
            try:
                return fmt_date(date.fromisoformat(str(value)))
            except ValueError:
                return str(value)
        return self.show("bribery_risk", name, value)


def entries_of(risk_id: int, upto: int | None) -> list[dict[str, Any]]:
    """Each revision (up to `upto` when given) with its changes against the one before."""
    revs: list[RecordRevision] = [r for r in revisions.history(KIND, risk_id) if upto is None or r.number <= upto]
    names = RiskNames([revisions.fields_of(r) for r in revs])
    lang = current_lang()
    out, previous = [], None
    for rev in revs:
        fields = revisions.fields_of(rev)
        matrix = db.session.get(RiskMatrix, fields.get("matrix_id")) if fields.get("matrix_id") else None
        words = {k: v.get(lang) or v.get("en") or k for k, v in matrix.label_map().items()} if matrix else {}
        changes = [Change(c.field, str(FIELD_LABELS.get(c.field, c.field)), names.show_risk(c.field, c.old, words),
                          names.show_risk(c.field, c.new, words)) for c in revisions.diff(previous, rev)]
        out.append({"revision": rev, "changes": changes})
        previous = rev
    return out


@bp.route("/<int:risk_id>/history")
def history(risk_id: int) -> ResponseReturnValue:
    """Every assessment and approval of the risk, with what changed (an auditor: up to the approved one)."""
    risk = risk_or_404(risk_id)
    upto = risk.approved_revision if current_scope().approved_only else None
    return render_template("risks/history.html", risk=risk, entries=entries_of(risk.id, upto))
