"""README.txt of the bundle, in the pack's language: how an auditor checks every hash offline, with no auditdocs.

The commands are the same in every language; only the sentences around them are translated (gettext, under the
caller's force_locale). CRLF line ends, so Notepad on an older Windows shows the lines too.
"""

from __future__ import annotations

from flask_babel import gettext as _

from .content import PackContent
from .manifest import EVIDENCE_MANIFEST, MANIFEST

LIST_SUMS = ("python3 -c 'import csv;[print(r[\"sha256\"]+\"  \"+r[\"path\"]) for r in "
             "csv.DictReader(open(\"evidence-manifest.csv\",encoding=\"utf-8-sig\"))]'")
POWERSHELL_CHECK = ("Import-Csv evidence-manifest.csv | ForEach-Object { if ((Get-FileHash -Algorithm SHA256 "
                    "-LiteralPath $_.path).Hash -ne $_.sha256) { \"FAILED: \" + $_.path } }")


def readme_lines(content: PackContent, docx_name: str) -> list[str]:
    """The README's lines: what the bundle holds, then the checks, one per system."""
    csv_name = EVIDENCE_MANIFEST
    return [
        _("Audit pack %(pack_id)s: how to check this bundle offline", pack_id=content.cover.pack_id),
        "",
        _("This bundle holds the Word pack (%(docx)s), every evidence file it cites at the version cited (folder "
          "evidence/), %(csv)s (path, document, version, size and SHA-256 of each evidence file) and %(manifest)s "
          "(size and SHA-256 of every other file of the bundle).", docx=docx_name, csv=csv_name, manifest=MANIFEST),
        _("Checking it needs neither auditdocs nor a network connection: only the SHA-256 tool of your system."),
        "",
        _("1. Compute the SHA-256 of %(csv)s and compare it with the one printed on the cover of the Word pack:",
          csv=csv_name),
        f"   Linux:                sha256sum {csv_name}",
        f"   macOS:                shasum -a 256 {csv_name}",
        f"   Windows (PowerShell): Get-FileHash -Algorithm SHA256 {csv_name}",
        f"   Windows (cmd):        certutil -hashfile {csv_name} SHA256",
        "",
        _("2. Check every evidence file against %(csv)s, from the folder where the bundle was unzipped. Each line "
          "should end in OK; PowerShell prints only the files that fail:", csv=csv_name),
        f"   Linux:      {LIST_SUMS} | sha256sum -c",
        f"   macOS:      {LIST_SUMS} | shasum -a 256 -c",
        f"   PowerShell: {POWERSHELL_CHECK}",
        "   " + _("One file at a time: the commands of step 1 with its path, compared with the sha256 column of its "
                  "row."),
        "",
        _("3. %(manifest)s gives the SHA-256 of the Word pack, of %(csv)s and of this README as well; where auditdocs "
          "is installed, \"auditdocs verify-pack BUNDLE.zip\" checks the whole bundle in one step.",
          manifest=MANIFEST, csv=csv_name),
        "",
        _("Any difference means that the file is not the one the pack cites."),
    ]


def readme_bytes(content: PackContent, docx_name: str) -> bytes:
    """README.txt as UTF-8 with CRLF line ends."""
    return ("\r\n".join(readme_lines(content, docx_name)) + "\r\n").encode("utf-8")
