"""The index follows the database: reindex equals incremental indexing, verify names what the index lacks, a
corrupt index answers 503 while the rest works, a locked index never fails the user's change, and the CLI search
applies the permissions of the account named (or says it applies none)."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pytest
from records_support import add_action, raise_nc
from search_app_support import find, index_keys
from support import approve, browser, new_document

from auditdocs.extensions import db
from auditdocs.models import Document
from auditdocs.search import EXTENSION, backend
from auditdocs.search.indexing import lag_of
from auditdocs.search.maintenance import maintainer_of
from auditdocs.search.types import IndexUnavailable
from auditdocs.search.whoosh_backend import WhooshBackend


def _seed(app, make_user):
    rosa, quique, luis = make_user("quality_officer"), make_user("quality_officer"), make_user("compliance_officer")
    c = browser(app, rosa)
    docs = [new_document(c, rosa.id, code=f"PR-LC-00{i}", title=f"Procedimiento de archivo {i}") for i in (1, 2)]
    assert approve(browser(app, quique), docs[0], 1).status_code == 302
    nc_id = raise_nc(app, luis.id, title="Archivo incompleto")
    add_action(app, luis.id, nc_id, luis.id)
    return docs, luis


def _version_key(app, doc_id):
    with app.app_context():
        key = f"version:{db.session.get(Document, doc_id).versions[0].id}"
        db.session.remove()
        return key


def test_reindex_equals_incremental_indexing(app, make_user, runner):
    docs, _ = _seed(app, make_user)
    incremental = index_keys(app)
    assert {_version_key(app, d) for d in docs} <= incremental
    assert {k.split(":")[0] for k in incremental} == {"version", "nonconformity", "corrective_action"}
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert f"Indexed {len(incremental)} document(s)" in result.stdout
    assert index_keys(app) == incremental


def test_verify_reports_a_document_missing_from_the_index(app, make_user, runner):
    docs, _ = _seed(app, make_user)
    clean = runner.invoke(args=["verify"])
    assert "search index" not in clean.output, clean.output
    missing = _version_key(app, docs[1])
    with app.app_context():
        backend().delete([missing])
    report = runner.invoke(args=["verify"])
    assert "WARNING: search index holds 1 version document(s), the database 2" in report.output
    assert f"not in the search index: {missing}" in report.output
    assert runner.invoke(args=["verify", "--strict"]).exit_code == 1
    assert runner.invoke(args=["reindex"]).exit_code == 0
    assert "search index" not in runner.invoke(args=["verify"]).output


def test_a_corrupt_index_answers_unavailable_while_the_app_works(app, make_user, client):
    docs, luis = _seed(app, make_user)
    (Path(app.config["INDEX_DIR"]) / "CURRENT").write_text("gen-gone")
    with pytest.raises(IndexUnavailable) as refused:
        find(app, luis.id, "archivo")
    assert refused.value.status == 503
    ada = make_user("admin")
    c = browser(app, ada)
    health = c.get("/healthz")
    assert health.status_code == 200
    index = health.get_json()["checks"]["index"]
    assert index["status"] == "corrupt" and index["needs_rebuild"] and index["missing"] > 0
    assert c.get(f"/documents/{docs[0]}").status_code == 200
    assert new_document(c, ada.id, code="PR-LC-009", title="Durante la avería")  # the change itself succeeds
    assert lag_of(app).waiting()  # and waits for the index
    done = maintainer_of(app).run_once()  # the maintenance loop rebuilds it off the request path
    assert done and done[0].startswith("rebuilt")
    assert find(app, ada.id, "averia", include_all_versions=True).total == 1


def test_a_locked_index_never_fails_the_users_change(app, make_user):
    _seed(app, make_user)
    rosa = make_user("quality_officer")
    with app.app_context():
        app.extensions[EXTENSION].close()
        app.extensions[EXTENSION] = WhooshBackend(Path(app.config["INDEX_DIR"]), lock_timeout=0.2)
    with (Path(app.config["INDEX_DIR"]) / "write.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a live writer that never lets go
        c = browser(app, rosa)
        doc_id = new_document(c, rosa.id, code="PR-LC-007", title="Cambio con índice bloqueado")
        assert c.get(f"/documents/{doc_id}").status_code == 200
        waiting = lag_of(app).waiting()
        assert _version_key(app, doc_id) in waiting
        with app.app_context():
            assert backend().health().status == "locked"
        fcntl.flock(held, fcntl.LOCK_UN)
    assert any(step.startswith("retried") for step in maintainer_of(app).run_once())
    assert not lag_of(app).waiting()
    assert find(app, rosa.id, "bloqueado", include_all_versions=True).total == 1


def test_cli_search_applies_the_named_accounts_permissions(app, make_user, runner):
    docs, _ = _seed(app, make_user)
    aurora = make_user("auditor")
    everything = runner.invoke(args=["search", "archivo", "--all-versions"])
    assert everything.exit_code == 0, everything.output
    assert "Searching everything: no --as, so no permission filter applies." in everything.stdout
    assert _version_key(app, docs[1]) in everything.stdout  # the draft
    as_auditor = runner.invoke(args=["search", "procedimiento", "--all-versions", "--as", aurora.email, "--json"])
    data = json.loads(as_auditor.stdout)
    assert data["as"].startswith(aurora.email) and not data["everything"]
    assert [hit["key"] for hit in data["hits"]] == [_version_key(app, docs[0])]  # approved only
    assert data["total"] == 1 and dict(map(tuple, data["facets"]["kind"])) == {"version": 1}
    unknown = runner.invoke(args=["search", "x", "--as", "nadie@example.org"])
    assert unknown.exit_code != 0 and "no account" in unknown.output


