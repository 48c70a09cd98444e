"""The parent side of the reader child (reader.py): one job at a time, each within its time budget.

Why one long-lived child rather than one per file, as the page renderer does (services/preview.py): starting
Python with PDFium and openpyxl costs about 0.1 s, more than reading a typical file, and a backlog has thousands.
The safety is the same: the child runs by file path with its address space capped, and past a file's budget the
parent kills it (the next file gets a fresh child). A child that dies mid-file reports that file as unreadable.
The child is also replaced every RECYCLE files, so a library that leaks cannot grow it for ever.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

logger = logging.getLogger(__name__)
READER = Path(__file__).resolve().parent / "reader.py"
RECYCLE = 500
KILL_WAIT = 5.0


@dataclass(frozen=True)
class Outcome:
    """What reading one file gave: a status of extracted_texts, the text, whether it was cut, why not."""

    status: str
    text: str = ""
    truncated: bool = False
    error: str | None = None


def default_command() -> list[str]:
    """This interpreter, isolated (no PYTHONPATH, no script directory on the path), running reader.py."""
    return [sys.executable, "-I", str(READER)]


class Reader:
    """The reader child, started on first use and stopped by close() (or leaving a `with` block)."""

    def __init__(self, command: Sequence[str] | None = None, budget: float = 60.0) -> None:
        self.command = list(command or default_command())
        self.budget = budget
        self._proc: subprocess.Popen[bytes] | None = None
        self._served = 0

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          close_fds=True)
            self._served = 0
        return self._proc

    def close(self) -> None:
        """Let the child finish (stdin closed), killing it if it does not."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=KILL_WAIT)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._kill(proc)

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe:
                with contextlib.suppress(OSError):  # a write still buffered for a dead child
                    pipe.close()

    def read(self, path: Path, kind: str, cap: int, xml_cap: int) -> Outcome:
        """Read one file in the child; a timeout, a crash or a garbled answer is an outcome, never an exception."""
        proc = self._start()
        job = json.dumps({"path": str(path), "kind": kind, "cap": cap, "xml_cap": xml_cap}) + "\n"
        try:
            assert proc.stdin is not None  # Popen was given PIPE
            proc.stdin.write(job.encode("utf-8"))
            proc.stdin.flush()
        except OSError:
            return self._died(proc)
        line = self._answer(proc)
        if line is None:
            logger.warning("text extraction of %s passed its budget of %.0f s: the reader was stopped", path,
                           self.budget)
            self._kill(proc)
            self._proc = None
            return Outcome("timeout", error="timeout")
        if not line:
            return self._died(proc)
        self._served += 1
        if self._served >= RECYCLE:
            self.close()
        try:
            answer = json.loads(line)
            return Outcome(str(answer["status"]), str(answer.get("text") or ""), bool(answer.get("truncated")),
                           answer.get("error"))
        except (ValueError, KeyError, TypeError):
            return Outcome("unreadable", error="crashed: the reader gave no answer")

    def _died(self, proc: subprocess.Popen[bytes]) -> Outcome:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=KILL_WAIT)
        self._kill(proc)  # closes the pipes (and ends a child that stopped answering without exiting)
        code = proc.returncode
        self._proc = None
        return Outcome("unreadable", error=f"crashed: the reader stopped (exit {code})")

    def _answer(self, proc: subprocess.Popen[bytes]) -> bytes | None:
        """One line from the child within the budget: the line, b"" when it ended, None when time ran out."""
        assert proc.stdout is not None  # Popen was given PIPE
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + self.budget
        chunks: list[bytes] = []
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    return None
                chunk = os.read(fd, 1024 * 1024)
                if not chunk:
                    return b""
                chunks.append(chunk)
                if chunk.endswith(b"\n"):
                    return b"".join(chunks)
