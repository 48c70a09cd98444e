"""What every command shares: writer mode for SQLite, one-line errors, progress bars on stderr."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

import click

from ..db import set_write_mode
from ..extensions import db
from ..services import ServiceError

PROGRESS_MIN = 200  # below this many items the work is instant and a bar would only be noise
F = TypeVar("F", bound=Callable[..., Any])


def writes(fn: F) -> F:
    """Mark a command as a writer: every transaction begins IMMEDIATE on SQLite; errors roll back."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        set_write_mode(True)
        try:
            return fn(*args, **kwargs)
        except ServiceError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from None
        except BaseException:
            db.session.rollback()
            raise
        finally:
            set_write_mode(False)  # the mode ends with the command (tests run commands in-process)

    return cast(F, wrapper)


@contextlib.contextmanager
def progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for large stores, so stdout stays machine-readable."""
    if total <= PROGRESS_MIN:
        yield lambda _n: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update
