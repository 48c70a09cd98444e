"""The application factory: `create_app()` builds the app in named steps; nothing is created at import time."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cli, events, extract
from .db import configure_engine, guard_session
from .extensions import csrf, db, login_manager, migrate
from .packs import worker as pack_worker
from .search import indexing as search_indexing
from .search import maintenance as search_maintenance
from .services import ddg_exports, ddg_tasks, mail, nc_tasks, risk_exports, risk_signals, risk_tasks
from .services import nc_exports as nc_export_kinds
from .storage import BlobStore
from .web import (
    account,
    audit_log,
    auth,
    clauses,
    documents,
    main,
    nc_dashboard,
    nc_exports,
    nonconformities,
    org,
    packs,
    programme,
    risks,
    sampling,
    search,
    tasks,
    users,
)
from .web.errors import init_errors
from .web.helpers import init_helpers
from .web.i18n import init_i18n
from .web.params import BoundedIntConverter
from .web.security import init_security
from .web.upload_stream import init_uploads

ROOT = Path(__file__).resolve().parent.parent  # the checkout: config.py, templates/, migrations/
BLUEPRINTS = (auth, main, account, users, tasks, clauses, documents, audit_log, org, programme, sampling,
              nc_dashboard, nc_exports, nonconformities, risks, search, packs)


def _config_module() -> Any:
    """Import config.py from the checkout the app is deployed from (it is not packaged by design)."""
    if "config" in sys.modules and hasattr(sys.modules["config"], "Config"):
        return sys.modules["config"]
    spec = importlib.util.spec_from_file_location("config", ROOT / "config.py")
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot find {ROOT / 'config.py'}: auditdocs runs from a checkout")
    module = importlib.util.module_from_spec(spec)
    sys.modules["config"] = module
    spec.loader.exec_module(module)
    return module


def create_app(config_class: type | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app in named steps."""
    cfg = _config_module()
    config_class = config_class or cfg.Config
    app = Flask("auditdocs", template_folder=str(ROOT / "templates"))
    app.config.from_object(config_class())
    if overrides:
        app.config.update(overrides)
    configure_paths(app, cfg)
    register_security(app)  # the login gate runs before the CSRF check parses any body
    register_extensions(app)
    register_storage(app)
    register_i18n(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_notifications(app)
    register_extraction(app)
    register_search(app)
    register_pack_worker(app)
    register_records()
    return app


def configure_paths(app: Flask, cfg: Any) -> None:
    """Anchor every runtime path in the data dir and resolve the secret key."""
    data_dir = Path(app.config["DATA_DIR"]).resolve()
    app.config["DATA_DIR"] = data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    app.config.setdefault("OBJECTS_DIR", data_dir / "objects")
    app.config.setdefault("INDEX_DIR", data_dir / "index")
    app.config.setdefault("PACKS_DIR", data_dir / "packs")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = cfg.load_secret_key(data_dir)
    mb = int(app.config["MAX_UPLOAD_MB"])
    app.config["MAX_UPLOAD_BYTES"] = mb * 1024 * 1024
    # Werkzeug refuses a larger body with 413 from Content-Length, before anything is buffered.
    app.config["MAX_CONTENT_LENGTH"] = mb * 1024 * 1024 + 1024 * 1024
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]


def register_extensions(app: Flask) -> None:
    """Bind db, migrations, login and CSRF; tune the engine; hook change events into the session."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login gate says why, in the person's language
    login_manager.session_protection = "basic"
    login_manager.user_loader(auth.load_user)
    with app.app_context():
        configure_engine(db.engine, app.config["DB_LOCK_TIMEOUT_MS"])
    guard_session()
    events.install()


def register_storage(app: Flask) -> None:
    """Blob store and the streaming upload path."""
    init_uploads(app, BlobStore(app.config["OBJECTS_DIR"]))


def register_security(app: Flask) -> None:
    """Login gate, read-only scopes and security headers on every response."""
    init_security(app)


def register_i18n(app: Flask) -> None:
    """Flask-Babel with the user's or browser's language and the organisation's time zone."""
    init_i18n(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per area."""
    app.url_map.converters["int"] = BoundedIntConverter  # ids a database integer cannot hold: 404, not 500
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)


def register_errorhandlers(app: Flask) -> None:
    """Friendly, translated error pages; never a traceback."""
    init_errors(app)


def register_template_helpers(app: Flask) -> None:
    """Jinja filters and globals shared by every template."""
    init_helpers(app)


def register_notifications(app: Flask) -> None:
    """E-mail that follows committed changes (approval requests); sends nothing while no SMTP host is set."""
    events.subscribe(app, mail.on_changes)


def register_extraction(app: Flask) -> None:
    """The background reader of uploaded files' text for search (off the request path; AUDITDOCS_EXTRACT_WORKER)."""
    extract.init_app(app)


def register_search(app: Flask) -> None:
    """The search index follows committed changes (AUDITDOCS_SEARCH_INDEXING) and is kept whole by a maintenance
    thread off the request path (AUDITDOCS_SEARCH_MAINTENANCE)."""
    search_indexing.init_app(app)
    search_maintenance.init_app(app)


def register_pack_worker(app: Flask) -> None:
    """Queued Word packs are built by a thread of the web process (AUDITDOCS_PACK_WORKER) or `auditdocs worker`."""
    pack_worker.init_app(app)


def register_records() -> None:
    """Task sources, site signals and exports of every register join the shared registries (idempotent)."""
    nc_tasks.register()
    risk_signals.register()
    nc_export_kinds.register()
    ddg_tasks.register()
    ddg_exports.register()
    risk_exports.register()
    risk_tasks.register()


def register_commands(app: Flask) -> None:
    """The `auditdocs` CLI commands on the app's CLI group."""
    cli.register(app)
