"""Forms that say what is wrong where it is wrong (issue 10 item 8): errors at their fields with aria-invalid and
aria-describedby, a summary at the top linking to them, required fields marked, the login prompt translated, and one
date format per language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from lxml import html as lxml_html
from support import PASSWORD

from auditdocs.web.helpers import fmt_date, fmt_datetime
from auditdocs.web.i18n import display_date, display_datetime


def _page(resp: Any) -> Any:
    """The answer as an lxml tree (python-docx brings lxml; XPath, no extra dependency)."""
    return lxml_html.fromstring(resp.get_data(as_text=True))


def _one(page: Any, xpath: str) -> Any:
    found = page.xpath(xpath)
    return found[0] if found else None


def _text(el: Any) -> str:
    return " ".join(el.text_content().split())


def _choose(client: Any, lang: str) -> None:
    assert client.post_form("/lang", {"lang": lang, "next": "/"}, page="/login").status_code == 302


def test_a_refused_form_points_at_each_field_in_error(app, client, login_as):
    login_as("admin")
    _choose(client, "es")
    resp = client.post_form("/admin/users/new", {"email": "not-an-address", "name": "", "role": "auditor",
                                                 "password": PASSWORD, "confirm": "something else"},
                            page="/admin/users/new")
    assert resp.status_code == 400
    page = _page(resp)
    summary = _one(page, "//main//form//*[@data-testid='error-summary']")
    assert summary is not None and summary.get("role") == "alert"
    invalid = page.xpath("//main//*[@aria-invalid='true']")
    assert {el.get("id") for el in invalid} >= {"name", "confirm"}
    heading = _text(_one(summary, ".//h2"))
    assert heading == f"Corrija {len(invalid)} campos", heading
    links = [a.get("href") for a in summary.xpath(".//a")]
    assert links == [f"#{el.get('id')}" for el in invalid], "the summary lists the fields in the form's order"
    for el in invalid:
        for ref in el.get("aria-describedby").split():
            message = _one(page, f"//*[@id='{ref}']")
            assert message is not None, f"{el.get('id')}: aria-describedby names a missing element"
        assert any("invalid-feedback" in (_one(page, f"//*[@id='{ref}']").get("class") or "")
                   for ref in el.get("aria-describedby").split())
    # The summary names each field by its label and says what is wrong with it.
    assert "Nombre completo" in _text(summary)


def test_required_fields_are_marked_and_explained(app, client, login_as):
    login_as("admin")
    _choose(client, "es")
    page = _page(client.get("/admin/users/new"))
    legend = _one(page, "//*[@data-testid='required-legend']")
    assert legend is not None and "obligatorios" in _text(legend)
    email = _one(page, "//*[@id='email']")
    assert email.get("required") is not None and email.get("aria-required") == "true"
    label = _one(page, "//label[@for='email']")
    assert _text(_one(label, ".//*[@class='required-mark']")) == "*"
    assert _text(_one(label, ".//*[@class='visually-hidden']")) == "obligatorio"
    role = _one(page, "//*[@id='role']")  # a list with a choice always made is not marked
    assert role.get("required") is None
    assert _one(page, "//label[@for='role']//*[@class='required-mark']") is None
    assert _one(page, "//*[@data-testid='error-summary']") is None, "no summary while nothing was refused"


def test_every_form_with_a_required_field_has_the_legend(app, client, login_as):
    login_as("admin")
    for url in ("/org/sites/new", "/org/processes/new", "/certificates/new", "/documents/new"):
        page = _page(client.get(url))
        for form in page.xpath("//main//form[@method='post']"):
            required = form.xpath(".//*[@required]")
            legends = form.xpath(".//*[@data-testid='required-legend']")
            assert len(legends) == (1 if required else 0), url
            for field in required:
                if field.get("type") in ("checkbox", "radio", "hidden"):
                    continue
                assert _one(form, f".//label[@for='{field.get('id')}']//*[@class='required-mark']") is not None, \
                    f"{url}: {field.get('id')} is required but not marked"


def test_the_login_prompt_is_in_the_visitors_language(app, client):
    resp = client.get("/documents/", headers={"Accept-Language": "es-PE,es;q=0.9"}, follow_redirects=True)
    body = resp.get_data(as_text=True)
    assert "Inicie sesión para ver esta página." in body
    assert "Please log in" not in body  # neither ours nor Flask-Login's own English default
    page = lxml_html.fromstring(body)
    assert page.get("lang") == "es"
    assert _text(_one(page, "//label[@for='email']")).startswith("Correo")

    other = app.test_client()
    body = other.get("/documents/", headers={"Accept-Language": "en"}, follow_redirects=True).get_data(as_text=True)
    assert "Please log in to see this page." in body


def test_one_date_format_per_language(app):
    moment = datetime(2026, 3, 2, 15, 4, tzinfo=UTC)  # 10:04 in Lima
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert display_date(date(2026, 3, 2)) == "2 mar 2026"
        assert display_datetime(moment) == "2 mar 2026, 10:04"
        # Every filter argument an older template passes gives the same format.
        assert fmt_datetime(moment, "short") == fmt_datetime(moment) == fmt_datetime(moment, "long")
        assert fmt_date(date(2026, 3, 2), "short") == "2 mar 2026"
        assert display_date(None) == display_datetime(None) == ""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert display_date(date(2026, 3, 2)) == "Mar 2, 2026"
        assert display_datetime(moment) == "Mar 2, 2026, 10:04\u202fAM"


def test_a_naive_stored_time_is_read_as_utc(app):
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert display_datetime(datetime(2026, 3, 2, 3, 30)) == "1 mar 2026, 22:30"  # the evening before, in Lima
        assert display_date(datetime(2026, 3, 2, 3, 30)) == "1 mar 2026"
