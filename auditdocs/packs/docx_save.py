"""Saving the .docx so the same content gives the same bytes: fixed document properties, and the package rewritten
with a fixed entry order, timestamp and compression (python-docx stamps each zip entry with the clock)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docx.opc.constants import RELATIONSHIP_TYPE as RT

AUTHOR = "auditdocs"
COMPRESSION = zipfile.ZIP_DEFLATED
LEVEL = 6
FIRST = ("[Content_Types].xml", "_rels/.rels")  # where readers look first; the rest follow in name order
ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)  # the earliest time a zip entry can carry

APP_XML = (b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
           b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
           b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
           b"<Application>auditdocs</Application><DocSecurity>0</DocSecurity><LinksUpToDate>false</LinksUpToDate>"
           b"</Properties>")


def set_properties(document: Any, *, title: str, subject: str, keywords: str, lang: str,
                   generated_at: datetime) -> None:
    """Core properties from the content only (the template's say "python-docx", 2013); no thumbnail of a blank page."""
    when = generated_at.astimezone(UTC).replace(tzinfo=None)  # python-docx prints the fields as given, with a Z
    props = document.core_properties
    props.author = props.last_modified_by = AUTHOR
    props.created = props.modified = when
    props.revision = 1
    props.title, props.subject, props.keywords = title[:255], subject[:255], keywords[:255]
    props.language = lang
    props.comments = ""
    props.category = ""
    package = document.part.package
    for rid, rel in sorted(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(rid)


def save(document: Any, target: Path, generated_at: datetime) -> None:
    """Write the package to target: entries in a fixed order, each stamped generated_at, deflated at one level."""
    raw = io.BytesIO()
    document.save(raw)
    stamp = max(generated_at.astimezone(UTC), ZIP_EPOCH).timetuple()[:6]
    with zipfile.ZipFile(raw) as source:
        names = [name for name in FIRST if name in source.namelist()]
        names += sorted(name for name in source.namelist() if name not in FIRST)
        with zipfile.ZipFile(target, "w") as out:
            for name in names:
                data = APP_XML if name == "docProps/app.xml" else source.read(name)
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.create_system = 3
                info.external_attr = 0o644 << 16
                out.writestr(info, data, compress_type=COMPRESSION, compresslevel=LEVEL)
