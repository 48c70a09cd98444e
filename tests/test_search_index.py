"""The index's life: absent, corrupt, of another schema, locked by a live or a dead process, rebuilt while in use,
merged; every failure reaches search as IndexUnavailable (503), never as a crash, and a rebuild equals indexing."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from search_support import AUDITOR, STAFF, corpus, find, keys, make_backend, record, version

from auditdocs.search.types import MAX_SEGMENTS, IndexUnavailable
from auditdocs.search.whoosh_backend import WhooshBackend

QUERIES = ["accion", "audits", "8.5.2", "PR-QA-001", "", "manual OR zafiro", "kind:gift", "auditoria NOT compras"]

HOLD_LOCKS = """
import fcntl, os, sys, time
fds = []
for path in sys.argv[1:]:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    fds.append(fd)
print("locked", flush=True)
time.sleep(60)
"""

DEAD_WHOOSH_WRITER = """
import os, sys
from whoosh import index
writer = index.open_dir(sys.argv[1]).writer()
writer.add_document(key="version:777")
os._exit(9)  # dies holding Whoosh's writer lock, with an uncommitted document
"""


@pytest.fixture()
def engine(tmp_path):
    engine = make_backend(tmp_path / "index", lock_timeout=0.3)
    engine.index_docs(corpus())
    yield engine
    engine.close()


def _gen(engine):
    return engine.store.root / engine.store.current()


def _hold(*paths):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCKS, *map(str, paths)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    holder.stdout.close()
    return holder


def test_an_absent_index_answers_503_and_a_rebuild_creates_it(tmp_path):
    engine = WhooshBackend(tmp_path / "nothing-here")
    assert engine.health().status == "absent" and engine.health().needs_rebuild
    with pytest.raises(IndexUnavailable) as unavailable:
        find(engine, "accion")
    assert unavailable.value.status == 503 and unavailable.value.reason == "absent"
    with pytest.raises(IndexUnavailable):
        engine.index_docs(corpus())
    assert engine.reindex(corpus()) == len(corpus())
    assert engine.health().ok and engine.health().docs == len(corpus())
    assert "version:1" in keys(find(engine, "accion"))


def test_garbage_files_make_the_index_unavailable_not_a_crash(engine):
    assert find(engine, "accion").total  # a searcher is open on the good files
    for path in _gen(engine).iterdir():
        if path.name != "SCHEMA.json":
            path.write_bytes(b"\x00garbage\xff" * 50)
    fresh = WhooshBackend(engine.store.root)
    with pytest.raises(IndexUnavailable) as unavailable:
        find(fresh, "accion")
    assert unavailable.value.reason == "corrupt"
    health = fresh.health()
    assert health.status == "corrupt" and health.needs_rebuild and health.detail
    with pytest.raises(IndexUnavailable):
        fresh.index_docs([record("gift", 50, "Regalo", "texto")])
    fresh.reindex(corpus())
    assert fresh.health().ok and "version:1" in keys(find(fresh, "accion"))
    assert "version:1" in keys(find(engine, "accion"))  # the first backend follows the swap


def test_damaged_segment_files_under_a_sound_table_of_contents(engine):
    for path in _gen(engine).iterdir():
        if path.suffix not in (".toc", ".json") and "LOCK" not in path.name:
            path.write_bytes(b"\x01" * 64)
    fresh = WhooshBackend(engine.store.root)
    assert fresh.health().status == "corrupt"
    with pytest.raises(IndexUnavailable) as unavailable:
        find(fresh, "accion")
    assert unavailable.value.reason == "corrupt"


def test_a_pointer_to_a_missing_generation_is_corrupt(engine):
    (engine.store.root / "CURRENT").write_text("gen-that-was-deleted")
    assert engine.health().status == "corrupt"
    with pytest.raises(IndexUnavailable) as unavailable:
        find(engine, "accion")
    assert unavailable.value.reason == "corrupt"


def test_a_schema_version_mismatch_needs_a_rebuild(engine):
    (_gen(engine) / "SCHEMA.json").write_text('{"schema_version": 0}')
    health = engine.health()
    assert health.status == "schema" and health.schema_version == 0 and health.needs_rebuild
    assert health.expected_schema_version and health.expected_schema_version > 0
    with pytest.raises(IndexUnavailable) as unavailable:
        find(engine, "accion")
    assert unavailable.value.reason == "schema"
    engine.reindex(corpus())
    assert engine.health().ok and engine.health().schema_version == health.expected_schema_version


def test_a_lock_left_by_a_dead_process_does_not_block_writing(engine):
    holder = _hold(engine.store.root / "write.lock", _gen(engine) / "MAIN_WRITELOCK")
    holder.kill()
    holder.wait()
    assert (engine.store.root / "write.lock").exists()
    assert engine.health().status == "ok"
    engine.index_docs([record("gift", 40, "Regalo tras el fallo", "cesta navideña")])
    assert keys(find(engine, "navideña")) == ["gift:40"]
    assert engine.clear_stale_lock() is True
    assert not (engine.store.root / "write.lock").exists()


def test_a_whoosh_writer_that_died_mid_write_leaves_nothing_behind(engine):
    subprocess.run([sys.executable, "-c", DEAD_WHOOSH_WRITER, str(_gen(engine))], check=False)
    engine.index_docs([record("gift", 41, "Regalo", "después del corte")])
    assert keys(find(engine, "corte")) == ["gift:41"]
    assert "version:777" not in set(engine.keys())


def test_a_live_writer_that_never_lets_go_gives_a_bounded_wait_then_503(engine):
    holder = _hold(engine.store.root / "write.lock")
    try:
        with pytest.raises(IndexUnavailable) as unavailable:
            engine.index_docs([record("gift", 42, "Regalo", "bloqueado")])
        assert unavailable.value.reason == "locked"
        assert engine.health().status == "locked"
        assert "version:1" in keys(find(engine, "accion"))  # reading goes on
        engine.clear_stale_lock()
        assert (engine.store.root / "write.lock").exists()  # a live holder's lock is never removed
    finally:
        holder.kill()
        holder.wait()
    engine.index_docs([record("gift", 42, "Regalo", "desbloqueado")])
    assert keys(find(engine, "desbloqueado")) == ["gift:42"]


def _answers(engine):
    out = {}
    for text in QUERIES:
        for allow, name in ((STAFF, "staff"), (AUDITOR, "auditor")):
            out[(text, name)] = set(keys(find(engine, text, allow, include_all_versions=True)))
    return out


def test_a_rebuild_equals_incremental_indexing(tmp_path):
    incremental = make_backend(tmp_path / "incremental")
    for doc in corpus():
        incremental.index_docs([doc])
    incremental.index_docs([version(1, "Procedimiento de acción correctiva", "Texto revisado.", code="PR-QA-001")])
    incremental.delete(["gift:2"])
    final = [d for d in corpus() if d.key not in ("gift:2", "version:1")]
    final.append(version(1, "Procedimiento de acción correctiva", "Texto revisado.", code="PR-QA-001"))
    rebuilt = make_backend(tmp_path / "rebuilt")
    seen: list[int] = []
    assert rebuilt.reindex(iter(final), total=len(final), progress=seen.append, batch=3) == len(final)
    assert seen == [3, 6, 9, 10]
    assert incremental.keys() == rebuilt.keys() == {d.key for d in final}
    assert incremental.count_by_kind() == rebuilt.count_by_kind()
    assert _answers(incremental) == _answers(rebuilt)


def test_writes_during_a_rebuild_reach_the_new_index_and_searches_go_on(engine):
    def source():
        for n, doc in enumerate(corpus()):
            if n == 3:
                assert "version:1" in keys(find(engine, "accion"))  # the old index still answers
                engine.index_docs([record("gift", 60, "Regalo durante la reconstrucción", "jamón ibérico")])
                engine.delete(["version:2"])
                with pytest.raises(IndexUnavailable) as twice:
                    engine.reindex([])
                assert twice.value.reason == "rebuilding"
                assert engine.health().rebuilding
            yield doc

    before = engine.store.current()
    engine.reindex(source())
    assert engine.store.current() != before
    assert keys(find(engine, "jamón")) == ["gift:60"]
    assert "version:2" not in set(engine.keys())
    assert not engine.health().rebuilding
    assert not (engine.store.root / "journal.jsonl").exists()


def test_a_failed_rebuild_keeps_the_old_index(engine):
    def broken():
        yield from corpus()[:3]
        raise RuntimeError("database went away")

    before = engine.store.current()
    with pytest.raises(RuntimeError):
        engine.reindex(broken())
    assert engine.store.current() == before and engine.health().ok
    assert len(list(engine.store.root.glob("gen-*"))) == 1
    assert "version:9" in keys(find(engine, "zafiro"))


def test_old_generations_are_removed_after_swaps(engine):
    for _ in range(3):
        engine.reindex(corpus())
    assert len(list(engine.store.root.glob("gen-*"))) == 2
    assert engine.keys() == {d.key for d in corpus()}


def test_merging_keeps_segments_at_ten_or_fewer(engine):
    for n in range(15):
        engine.index_docs([record("gift", 100 + n, f"Regalo {n}", "caja de bombones")])
    assert engine.health().segments > MAX_SEGMENTS
    assert engine.merge_segments() <= MAX_SEGMENTS
    assert engine.health().segments <= MAX_SEGMENTS
    assert find(engine, "bombones").total == 15


def test_threads_write_and_search_at_once(tmp_path):
    engine = make_backend(tmp_path / "index")
    engine.index_docs(corpus())
    errors: list[BaseException] = []

    def writer(offset):
        try:
            for n in range(10):
                engine.index_docs([record("gift", offset + n, "Regalo concurrente", "turrón de Alicante")])
        except BaseException as e:
            errors.append(e)

    def reader():
        try:
            for _ in range(20):
                assert find(engine, "accion").total >= 1
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(1000 * i,)) for i in range(1, 4)]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert find(engine, "turrón").total == 30


def test_an_update_is_seen_by_a_searcher_opened_before_it(engine):
    assert find(engine, "zafiro").total == 1
    engine.index_docs([version(9, "Plan confidencial de sucesión", "Sin la palabra.", document=9,
                               restricted=True, code="PL-RH-009")])
    assert find(engine, "zafiro").total == 0
    engine.delete(["version:9"])
    assert find(engine, "code:PL-RH-009").total == 0
