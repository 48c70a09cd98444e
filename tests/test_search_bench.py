"""benchmarks/search_bench.py: its corpus is repeatable and bilingual, its rows agree with the index it feeds, and
the --smoke run prints every figure the README table needs (no timed assertions: the figures mean nothing here)."""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import func, select

from auditdocs.extensions import db
from auditdocs.models import Document, DocumentVersion
from auditdocs.models.extracted import BlobText
from benchmarks.records_bench import Bench, accounts_and_org
from benchmarks.search_corpus import corpus, document
from benchmarks.search_rows import search_doc, write_documents

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "search_bench.py"
TODAY = date(2026, 12, 1)


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("search_bench", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["search_bench"] = module
    spec.loader.exec_module(module)
    return module


bench = _bench()


def test_the_corpus_is_repeatable_bilingual_and_about_two_kilobytes_a_document():
    docs = list(corpus(300, 5, TODAY))
    assert [d.body for d in docs[:20]] == [document(i, 300, 5, TODAY).body for i in range(20)]
    assert docs[3].body != document(3, 300, 6, TODAY).body, "another seed, another corpus"
    langs = {d.lang for d in docs}
    assert langs == {"es", "en"}
    sizes = sorted(len(d.body) for d in docs)
    assert 1500 <= sizes[len(sizes) // 2] <= 2500
    assert len({d.code for d in docs}) == 300 and re.fullmatch(r"[A-Z]{2}-[A-Z]+-\d{4}", docs[0].code)
    assert any(d.restricted for d in docs) and any(d.draft for d in docs)
    spanish = " ".join(d.body for d in docs if d.lang == "es")
    assert "visitas domiciliarias" in spanish or "capacitación" in spanish
    assert re.search(r"\b\d+\.\d+(\.\d+)?\b", spanish), "clause numbers are cited in the text"


def test_the_rows_written_match_the_corpus_and_its_search_docs(app):
    target = Bench(app, "test")
    accounts_and_org(target)
    where = write_documents(app, 120, 7, TODAY)
    docs = list(corpus(120, 7, TODAY))
    with app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 120
        assert db.session.scalar(select(func.count(DocumentVersion.id))) == 120
        assert db.session.scalar(select(func.count()).select_from(BlobText)) == len({d.sha256 for d in docs})
        drafts = {where.doc_id(d) for d in docs if d.draft}
        in_force = set(db.session.scalars(select(Document.id).where(Document.current_version_id.is_not(None))))
        assert in_force == {where.doc_id(d) for d in docs} - drafts
        restricted = set(db.session.scalars(select(Document.id).where(Document.confidentiality == "restricted")))
        assert restricted == {where.doc_id(d) for d in docs if d.restricted}
        db.session.remove()
    one = search_doc(docs[0], where)
    assert one.key == f"version:{where.version_id(docs[0])}" and one.parent_id == where.doc_id(docs[0])
    assert one.groups == (f"document:{where.doc_id(docs[0])}",) and one.codes[0] == docs[0].code
    assert one.approved is (not docs[0].draft) and one.body == docs[0].body


@pytest.mark.sqlite_only
def test_the_smoke_run_prints_every_figure(capsys):
    report = bench.main(["--smoke"])
    figs = report["sqlite"]
    assert [f.n for f in figs] == [60]
    fig = figs[0]
    assert fig.reindex_s > 0 and fig.peak_mb > 0 and fig.update_ms and fig.fts_ms
    assert set(fig.fn_ms) == {"quality", "auditor"} and set(fig.http_ms) == {"quality", "auditor"}
    assert fig.update_seen, "an update committed through the service is found by the next search"
    assert fig.hits["quality"] > 0 and fig.hits["auditor"] > 0
    out = capsys.readouterr().out
    for figure in ("full reindex", "reindex peak memory", "update after commit", "update: index_docs part",
                   "FTS5 query", "query search_for, quality", "query search_for, auditor",
                   "query HTTP /search.json, quality", "query HTTP /search.json, auditor"):
        row = rf"\| sqlite \| 60 \| {re.escape(figure)}[^|]* \|[^|]*\| [\d.]+ (ms|MB|docs/s) \|"
        assert re.search(row, out), figure
    assert "× FTS5 p95" in out and "× |" in out.replace(":", "")
    assert "SearchDocs from the database by the sources' batch loaders" in out and "ru_maxrss" in out
