"""Saving the .docx so the same content gives the same bytes: fixed document properties, and the package written
with a fixed entry order, timestamp and compression (python-docx's own save stamps each zip entry with the clock)."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT

AUTHOR = "auditdocs"
COMPRESSION = zipfile.ZIP_DEFLATED
LEVEL = 6
FIRST = ("[Content_Types].xml", "_rels/.rels")  # where readers look first; the rest follow in name order
ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)  # the earliest time a zip entry can carry

APP_XML = (b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
           b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
           b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
           b"<LinksUpToDate>false</LinksUpToDate><Application>auditdocs</Application><DocSecurity>0</DocSecurity>"
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


def _bytes(data: str | bytes) -> bytes:
    return data if isinstance(data, bytes) else data.encode()


def package_entries(document: Any) -> dict[str, bytes]:
    """Every zip entry of the package by name: the parts reachable from the package's relationships (as python-docx
    writes them), their relationships, and a content-types item naming each part. Gathered here rather than through
    `document.save` so the package is deflated once, not saved, inflated and deflated again."""
    package = document.part.package
    parts = sorted(package.iter_parts(), key=lambda part: str(part.partname))
    for part in parts:
        part.before_marshal()
    entries = {"_rels/.rels": _bytes(package.rels.xml)}
    types = [f'<Default Extension="rels" ContentType="{CT.OPC_RELATIONSHIPS}"/>',
             f'<Default Extension="xml" ContentType="{CT.XML}"/>']
    for part in parts:
        entries[part.partname.membername] = _bytes(part.blob)
        types.append(f'<Override PartName="{part.partname}" ContentType="{part.content_type}"/>')
        if len(part.rels):
            entries[part.partname.rels_uri.membername] = _bytes(part.rels.xml)
    entries["[Content_Types].xml"] = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        f'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">{"".join(types)}</Types>'
    ).encode()
    entries["docProps/app.xml"] = APP_XML
    return entries


def save(document: Any, target: Path, generated_at: datetime) -> None:
    """Write the package to target: entries in a fixed order, each stamped generated_at, deflated at one level."""
    entries = package_entries(document)
    stamp = max(generated_at.astimezone(UTC), ZIP_EPOCH).timetuple()[:6]
    names = [name for name in FIRST if name in entries] + sorted(name for name in entries if name not in FIRST)
    with zipfile.ZipFile(target, "w") as out:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            out.writestr(info, entries[name], compress_type=COMPRESSION, compresslevel=LEVEL)
