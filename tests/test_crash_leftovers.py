"""What a crashed upload leaves behind: removed at the next start (its writer is gone), listed by `verify` while a
live writer still holds it, and never piling up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from support import base_overrides

import config as app_config
from auditdocs import create_app
from auditdocs.extensions import db

ROOT = Path(__file__).resolve().parent.parent
# A writer that streams part of an upload into the store and is then killed with SIGKILL, as by the OOM killer.
KILLED_WRITER = """
import os, signal, sys
from auditdocs.storage import BlobStore
writer = BlobStore(sys.argv[1]).writer()
writer.write(b"%PDF-1.4 half an upload " * 4096)
writer.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""
# A writer that is alive (an upload in progress in another worker) until its stdin closes.
LIVE_WRITER = """
import sys
from auditdocs.storage import BlobStore
writer = BlobStore(sys.argv[1]).writer()
writer.write(b"%PDF-1.4 still uploading")
writer.flush()
print(writer.path.name, flush=True)
sys.stdin.read()
"""


def _run(script: str, objects: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script, str(objects)], cwd=ROOT, text=True, check=False,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, **kwargs)


def _age(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_a_killed_uploads_leftover_goes_at_the_next_start_and_a_live_one_is_listed(app, runner):
    objects = Path(app.config["OBJECTS_DIR"])
    for _ in range(3):  # repeated crashes
        assert _run(KILLED_WRITER, objects).returncode == -9
    leftovers = sorted((objects / "tmp").iterdir())
    assert len(leftovers) == 3
    _age(leftovers[0], 120)
    _age(leftovers[1], 120)  # the third is seconds old: a writer may be about to lock a file that new

    live = subprocess.Popen([sys.executable, "-c", LIVE_WRITER, str(objects)], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert live.stdout is not None
        live_name = live.stdout.readline().strip()
        _age(objects / "tmp" / live_name, 3600)

        restarted = create_app(app_config.TestConfig, base_overrides(
            app.config["DATA_DIR"], app.config["SQLALCHEMY_DATABASE_URI"], app.config["SQLALCHEMY_ENGINE_OPTIONS"]))
        with restarted.app_context():
            db.session.remove()
        remaining = {p.name for p in (objects / "tmp").iterdir()}
        assert remaining == {leftovers[2].name, live_name}  # the dead writers' old files are gone

        result = runner.invoke(args=["verify"])
        assert result.exit_code == 0  # leftovers are warnings, not errors
        assert f"temporary upload file {live_name} (" in result.output and "is still being written" in result.output
        assert f"temporary upload file {leftovers[2].name}" in result.output
        assert "left by an interrupted upload (`auditdocs gc` removes it)" in result.output
    finally:
        assert live.stdin is not None and live.stdout is not None
        live.stdin.close()
        live.wait(10)
        live.stdout.close()
