"""Text extraction of stored files for search: read off the request path, once per SHA-256, safely.

API: `text_of(sha256)` / `texts_of(hashes)` (the stored reading, None/absent while pending), `text_state(status)`
(the search document's text_state), `pending(limit)`, `pending_count()`, `run_pending(limit, progress)`,
`notes(hashes)` (what a page says), `init_app(app)` (the background worker).
"""

from .notes import TextNote, notes
from .runner import Outcome, Reader
from .service import (
    ExtractedText,
    Pending,
    RunSummary,
    pending,
    pending_count,
    read_blob,
    run_pending,
    statuses,
    store,
    text_of,
    text_state,
    texts_of,
)
from .worker import init_app, worker_of

__all__ = ["ExtractedText", "Outcome", "Pending", "Reader", "RunSummary", "TextNote", "init_app", "notes",
           "pending", "pending_count", "read_blob", "run_pending", "statuses", "store", "text_of", "text_state",
           "texts_of", "worker_of"]
