"""The gifts register through HTTP (ISO 37001 8.7): errors at their fields (in Spanish too), thresholds per currency
(below, at, above, a currency without one, a later change that rewrites nothing), approval by someone other than
whoever recorded or last changed the entry, the history, links to risks and clauses with evidence, the filters,
the approver's tasks, and the auditor who reads everything and changes nothing."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from ddg_support import GIFTS, NEW_GIFT, gift_form, login, new_id, seed_risk, set_threshold, today
from records_support import clause_id
from support import pdf

from auditdocs.extensions import db
from auditdocs.models import Attachment, AuditEvent, Gift, GiftThreshold, RecordRevision

THRESHOLDS = f"{GIFTS}thresholds"


@pytest.fixture
def people(make_user):
    return {"carla": make_user("compliance_officer", name="Carla Compliance"),
            "cesar": make_user("compliance_officer", name="César Compliance"),
            "quique": make_user("quality_officer", name="Quique Quality"),
            "ada": make_user("admin", name="Ada Admin"), "aurora": make_user("auditor", name="Aurora Auditor")}


def _page(gift_id):
    return f"{GIFTS}{gift_id}"


def _record(client, app, **fields):
    return new_id(client.post_form(NEW_GIFT, gift_form(app, **fields), page=NEW_GIFT))


def _state(app, gift_id):
    with app.app_context():
        gift = db.session.get(Gift, gift_id)
        return gift.status, gift.requires_approval, gift.revision


def test_errors_are_shown_at_their_fields_and_nothing_is_saved(app, client, people):
    login(client, people["carla"])
    assert client.get(NEW_GIFT).status_code == 200
    resp = client.post_form(NEW_GIFT, gift_form(app, counterparty="", description="", value=""), page=NEW_GIFT)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'data-testid="error-summary"' in body and 'aria-invalid="true"' in body
    assert "Name the other party." in body and "Describe what it was." in body
    assert "Enter the value (0 when it has none)." in body
    future = today(app).replace(year=today(app).year + 1).isoformat()
    resp = client.post_form(NEW_GIFT, gift_form(app, value="-5", currency="soles", occurred_on=future,
                                                counterparty_category=""), page=NEW_GIFT)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400  # the service's rules, all at once, each at its field
    for message in ("Enter an amount of zero or more.", "A currency is three letters (ISO 4217), e.g. PEN or USD.",
                    "A gift cannot be recorded for a day still to come.", "Choose the category."):
        assert message in body
    resp = client.post_form(NEW_GIFT, gift_form(app, value="12.345", direction="given", decision="returned"),
                            page=NEW_GIFT)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "At most two decimals." in body and "Only something received can be returned or donated." in body
    with app.app_context():
        assert db.session.query(Gift).count() == 0


def test_errors_read_in_spanish(app, client, people):
    login(client, people["carla"])
    client.post_form("/lang", {"lang": "es"}, page="/")
    resp = client.post_form(NEW_GIFT, gift_form(app, counterparty=""), page=NEW_GIFT)  # the form's own check
    assert resp.status_code == 400 and "Indique la otra parte." in resp.get_data(as_text=True)
    resp = client.post_form(NEW_GIFT, gift_form(app, currency="soles", value="1,5"), page=NEW_GIFT)  # the service's
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Una moneda son tres letras (ISO 4217), p. ej. PEN o USD." in body and "Corrija los campos" in body


def test_thresholds_below_at_above_and_a_currency_without_one(app, client, people):
    set_threshold(app, people["ada"].id, "PEN", "100.00")
    login(client, people["carla"])
    below = _record(client, app, value="99.99")
    at = _record(client, app, value="100")
    above = _record(client, app, value="350.50")
    usd = _record(client, app, value="1", currency="usd")  # no threshold for USD: approval, whatever the value
    assert _state(app, below) == ("recorded", False, 1)
    assert _state(app, at) == ("pending_approval", True, 1)
    assert _state(app, above) == ("pending_approval", True, 1)
    assert _state(app, usd) == ("pending_approval", True, 1)
    with app.app_context():
        assert db.session.get(Gift, usd).currency == "USD"
    page = client.get(_page(below)).get_data(as_text=True)
    assert "Threshold in force for PEN: 100.00" in page
    assert "USD has no threshold" in client.get(_page(usd)).get_data(as_text=True)


def test_a_later_threshold_change_rewrites_no_entry(app, client, people):
    set_threshold(app, people["ada"].id, "PEN", "100")
    login(client, people["carla"])
    small = _record(client, app, value="80")
    big = _record(client, app, value="150")
    set_threshold(app, people["ada"].id, "PEN", "50", "Política revisada")
    set_threshold(app, people["ada"].id, "PEN", "50")  # the same amount again adds nothing
    assert _state(app, small) == ("recorded", False, 1)  # judged against 100 when it was saved
    assert _state(app, big) == ("pending_approval", True, 1)
    assert _state(app, _record(client, app, value="80")) == ("pending_approval", True, 1)  # judged against 50
    with app.app_context():
        assert [t.amount for t in db.session.query(GiftThreshold).order_by(GiftThreshold.id)] == [
            Decimal("100.00"), Decimal("50.00")]


def test_the_thresholds_page(app, client, people):
    login(client, people["ada"])
    assert client.get(THRESHOLDS).status_code == 200
    resp = client.post_form(THRESHOLDS, {"currency": "PE", "amount": "-1"}, page=THRESHOLDS)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "A currency is three letters" in body and "Enter an amount of zero or more." in body
    resp = client.post_form(THRESHOLDS, {"currency": "pen", "amount": "200", "note": "Directiva 2026"},
                            page=THRESHOLDS)
    assert resp.status_code == 302
    client.post_form(THRESHOLDS, {"currency": "PEN", "amount": "150.5"}, page=THRESHOLDS)
    page = client.get(THRESHOLDS).get_data(as_text=True)
    assert 'data-testid="threshold-PEN"' in page and "150.50" in page and "Directiva 2026" in page
    with app.app_context():
        events = db.session.query(AuditEvent).filter_by(action="gift_threshold.set").count()
        assert events == 2
    for role in ("quique", "carla", "aurora"):  # only administrators set them; everyone else reads them
        login(client, people[role])
        page = client.get(THRESHOLDS).get_data(as_text=True)
        assert "150.50" in page and 'data-testid="threshold-form"' not in page
        resp = client.post_form(THRESHOLDS, {"currency": "PEN", "amount": "1"}, page=THRESHOLDS)
        assert resp.status_code == 403
    with app.app_context():
        assert db.session.query(GiftThreshold).count() == 2


def test_approval_by_someone_other_than_the_recorder(app, client, people):
    set_threshold(app, people["ada"].id, "PEN", "100")
    login(client, people["carla"])
    gift = _record(client, app, value="500")
    page = client.get(_page(gift)).get_data(as_text=True)
    assert 'data-testid="approve-form"' not in page and 'data-testid="decide-blocked"' in page
    resp = client.post_form(f"{_page(gift)}/approve", {"approve-approval_note": "Yo mismo"}, page=_page(gift))
    assert resp.status_code == 403 and "Nothing was changed" in resp.get_data(as_text=True)
    login(client, people["quique"])  # records gifts, may not approve them
    assert client.post_form(f"{_page(gift)}/approve", {}, page=_page(gift)).status_code == 403
    assert _state(app, gift) == ("pending_approval", True, 1)

    login(client, people["cesar"])
    assert 'data-testid="approve-form"' in client.get(_page(gift)).get_data(as_text=True)
    resp = client.post_form(f"{_page(gift)}/reject", {"reject-approval_note": ""}, page=_page(gift))
    assert resp.status_code == 400 and "Say why the entry is rejected." in resp.get_data(as_text=True)
    resp = client.post_form(f"{_page(gift)}/approve", {"approve-approval_note": "Dentro de la política"},
                            page=_page(gift))
    assert resp.status_code == 302
    assert _state(app, gift) == ("approved", True, 2)
    with app.app_context():
        row = db.session.get(Gift, gift)
        assert row.approver_id == people["cesar"].id and row.approval_note == "Dentro de la política"
    again = client.post_form(f"{_page(gift)}/approve", {}, page=_page(gift))
    assert again.status_code == 409  # nothing is waiting any more


def test_whoever_last_changed_an_entry_may_not_approve_it(app, client, people):
    set_threshold(app, people["ada"].id, "PEN", "100")
    login(client, people["carla"])
    gift = _record(client, app, value="500")
    login(client, people["cesar"])
    edit = f"{_page(gift)}/edit"
    resp = client.post_form(edit, gift_form(app, value="450", note="Valor corregido"), page=edit)
    assert resp.status_code == 302
    resp = client.post_form(f"{_page(gift)}/approve", {}, page=_page(gift))
    assert resp.status_code == 403 and "last changed" in resp.get_data(as_text=True)
    login(client, people["ada"])
    resp = client.post_form(f"{_page(gift)}/reject", {"reject-approval_note": "Debe devolverse"}, page=_page(gift))
    assert resp.status_code == 302 and _state(app, gift) == ("rejected", True, 3)
    login(client, people["carla"])  # the recorder returns it: judged again, waiting for approval again
    resp = client.post_form(edit, gift_form(app, value="450", decision="returned",
                                            decision_note="Devuelto con carta"), page=edit)
    assert resp.status_code == 302 and _state(app, gift) == ("pending_approval", True, 4)
    resp = client.post_form(edit, gift_form(app, value="450", decision="returned",
                                            decision_note="Devuelto con carta"), page=edit)
    assert resp.status_code == 302 and _state(app, gift) == ("pending_approval", True, 4)  # no change, no revision


def test_history_shows_each_change_and_the_state_on_a_day(app, client, people):
    set_threshold(app, people["ada"].id, "PEN", "100")
    login(client, people["carla"])
    gift = _record(client, app, value="500")
    login(client, people["cesar"])
    client.post_form(f"{_page(gift)}/approve", {"approve-approval_note": "Conforme"}, page=_page(gift))
    body = client.get(f"{_page(gift)}/history").get_data(as_text=True)
    assert body.count('data-testid="revision"') == 2
    assert ('<tr data-field="status"><td>Status</td><td><del>Waiting for approval</del></td>'
            '<td><ins>Approved</ins>') in body
    assert '<tr data-field="approver_id">' in body and "César Compliance" in body
    day = today(app).isoformat()
    state = client.get(f"{_page(gift)}/history?on={day}").get_data(as_text=True)
    assert 'data-testid="as-of"' in state and "Approved" in state
    assert client.get(f"{_page(gift)}/history?on=1995-01-01").status_code == 200
    assert client.get(f"{_page(gift)}/history?on=9999-12-31").status_code == 400


def test_links_to_risks_and_clauses_and_evidence_files(app, client, people):
    risk = seed_risk(app, people["carla"].id)
    clause = clause_id(app, "iso37001_2016", "8.7")
    login(client, people["carla"])
    resp = client.post_form(NEW_GIFT, gift_form(app, risk_ids="999999"), page=NEW_GIFT)
    assert resp.status_code == 400
    gift = _record(client, app, risk_ids=str(risk), clause_ids=str(clause),
                   evidence=(BytesIO(pdf("acta-entrega")), "acta.pdf"))
    page = client.get(_page(gift)).get_data(as_text=True)
    assert "BR-0001" in page and "ISO 37001:2016 8.7" in page and "acta.pdf" in page
    resp = client.post(f"{_page(gift)}/files", data={"file-file": (BytesIO(pdf("foto")), "foto.pdf"),
                                                     "csrf_token": client.csrf_token(_page(gift))})
    assert resp.status_code == 302
    with app.app_context():
        files = db.session.query(Attachment).filter_by(owner_type="gift", owner_id=gift).order_by(Attachment.id).all()
        assert [f.original_filename for f in files] == ["acta.pdf", "foto.pdf"]
        assert db.session.get(Gift, gift).risk_ids == str(risk)
        file_id = files[1].id
    login(client, people["aurora"])  # the auditor downloads the evidence, with a receipt
    page = client.get(_page(gift)).get_data(as_text=True)  # the risk is not approved: its reference, not its title
    assert "BR-0001" in page and "Soborno en la adjudicación" not in page
    with client.get(f"{_page(gift)}/files/{file_id}") as download:
        assert download.status_code == 200 and download.get_data() == pdf("foto")
    assert client.get(f"{_page(gift)}/files/{file_id + 100}").status_code == 404


def test_the_register_filters(app, client, people):
    set_threshold(app, people["ada"].id, "PEN", "100")
    login(client, people["carla"])
    _record(client, app, counterparty="Constructora Andina SAC", value="80")
    _record(client, app, counterparty="Municipalidad de Urubamba", counterparty_category="public_official",
            value="900", kind="hospitality")
    old = today(app).replace(year=today(app).year - 1).isoformat()
    _record(client, app, counterparty="Notaría Quispe", counterparty_category="other", occurred_on=old, value="300")

    def refs(query):
        body = client.get(f"{GIFTS}?{query}").get_data(as_text=True)
        return body.count('data-testid="gift-row"')

    assert refs("") == 3
    assert refs("state=pending_approval") == 2
    assert refs("category=public_official") == 1
    assert refs(f"year={today(app).year - 1}") == 1
    assert refs("q=urubamba") == 1 and refs("q=municipalidad+de") == 1
    assert client.get(f"{GIFTS}?state=deleted").status_code == 400
    assert client.get(f"{GIFTS}?year=abc").status_code == 400


def test_the_approver_finds_the_entry_in_their_tasks(app, client, people):
    set_threshold(app, people["ada"].id, "PEN", "100")
    login(client, people["carla"])
    gift = _record(client, app, value="500")
    assert f"/risks/gifts/{gift}" not in client.get("/tasks/").get_data(as_text=True)  # not her own
    login(client, people["cesar"])
    assert f"/risks/gifts/{gift}" in client.get("/tasks/").get_data(as_text=True)
    client.post_form(f"{_page(gift)}/approve", {}, page=_page(gift))
    assert f"/risks/gifts/{gift}" not in client.get("/tasks/").get_data(as_text=True)


def test_the_auditor_reads_everything_and_changes_nothing(app, client, people):
    set_threshold(app, people["ada"].id, "PEN", "100")
    login(client, people["carla"])
    gift = _record(client, app, value="500")
    login(client, people["aurora"])
    for url in (GIFTS, _page(gift), f"{_page(gift)}/history", THRESHOLDS):
        assert client.get(url).status_code == 200, url
    page = client.get(_page(gift)).get_data(as_text=True)
    assert 'data-testid="edit-gift"' not in page and 'data-testid="approve-form"' not in page
    register = client.get(GIFTS).get_data(as_text=True)
    assert 'data-testid="new-gift"' not in register
    assert 'href="/risks/due-diligence/"' in register  # the risks area's navigation
    for url, data in ((NEW_GIFT, gift_form(app)), (f"{_page(gift)}/edit", gift_form(app)),
                      (f"{_page(gift)}/approve", {}), (f"{_page(gift)}/reject", {"reject-approval_note": "No"})):
        assert client.post_form(url, data, page=GIFTS).status_code == 403, url
    assert _state(app, gift) == ("pending_approval", True, 1)
    with app.app_context():
        assert db.session.query(RecordRevision).filter_by(entity_type="gift").count() == 1
