"""Probes are recorded: asking for what one may not see still answers a uniform 404, but who asked for what is kept
(one audit event per account and window, the count aside) and a burst shows on the administrators' dashboard."""

from __future__ import annotations

from sqlalchemy import select
from support import audit_events, new_document

from auditdocs.extensions import db
from auditdocs.models.security import SecurityCounter


def test_a_burst_of_probes_is_counted_audited_once_and_shown_to_admins(app, client, login_as, make_user):
    owner = login_as("quality_officer")
    secret = new_document(client, owner.id, code="RG-ABS-001", confidentiality="restricted")
    client.post_form("/logout", page="/")

    luis = login_as("compliance_officer", name="Luis Mendoza")
    asked = [f"/documents/{secret}", f"/documents/{secret}/versions/1/download"] + \
        [f"/documents/{n}" for n in range(1000, 1010)]
    for url in asked:
        resp = client.get(url)
        assert resp.status_code == 404  # the same answer whether it exists or not
        assert "This page does not exist, or you do not have access to it." in resp.get_data(as_text=True)
    events = audit_events(app, "access.not_found", ("actor_id", "new"))
    assert len(events) == 1 and events[0]["actor_id"] == luis.id
    assert events[0]["new"]["first"] == f"/documents/{secret}"
    with app.app_context():
        assert db.session.scalar(select(SecurityCounter.count).where(SecurityCounter.kind == "not_found")) == 12
    assert 'data-testid="probes"' not in client.get("/").get_data(as_text=True)  # only administrators see it
    client.post_form("/logout", page="/")

    login_as("admin")
    dashboard = client.get("/").get_data(as_text=True)
    assert 'data-testid="probes"' in dashboard
    assert "Luis Mendoza: 12 refused requests" in dashboard


def test_forbidden_actions_are_counted_too(app, client, login_as):
    auditor = login_as("auditor")
    token = client.csrf_token("/")
    for _ in range(3):
        assert client.post("/documents/new", data={"csrf_token": token}).status_code == 403
    events = audit_events(app, "access.forbidden", ("actor_id", "new"))
    assert [e["actor_id"] for e in events] == [auditor.id]
    with app.app_context():
        assert db.session.scalar(select(SecurityCounter.count).where(SecurityCounter.kind == "forbidden")) == 3


def test_paths_that_name_no_object_are_not_probes(app, client, login_as):
    login_as("quality_officer")
    assert client.get("/favicon.ico").status_code == 404
    assert client.get("/no/such/page?x=1").status_code == 404
    assert audit_events(app, "access.not_found") == []


def test_a_refusal_from_a_service_counts_as_forbidden(app, client, login_as, make_user):
    """Segregation of duties refuses the uploader's own approval (403 from the service, not the gate)."""
    rosa = login_as("quality_officer")
    doc_id = new_document(client, rosa.id, code="PR-SOD-001")
    assert client.post_form(f"/documents/{doc_id}/versions/1/approve", {}, page=f"/documents/{doc_id}"
                            ).status_code == 403
    assert [e["actor_id"] for e in audit_events(app, "access.forbidden", ("actor_id",))] == [rosa.id]
