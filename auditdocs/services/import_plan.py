"""Import planning: read codes, titles and revision marks from file names, walk the share, read the CSV mapping.

Pure functions of the file tree and the mapping file (no database writes), so `--dry-run` and the real run
agree on what will happen.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..filecheck import extension_of
from ..models.documents import KINDS, LANGUAGES
from ..textnorm import fold
from . import ServiceError
from . import documents as docs

SKIP_FILES = frozenset({"thumbs.db", "desktop.ini", "icon\r"})
SKIP_DIRS = frozenset({"$recycle.bin", "system volume information", "__macosx"})
KIND_BY_PREFIX = {"PR": "procedure", "PO": "policy", "POL": "policy", "FO": "form", "FR": "form", "F": "form",
                  "RG": "record", "REG": "record", "IT": "work_instruction"}
_MARK = re.compile(
    r"(?:\s+|\s*-\s*|^|(?=[(\[]))(?P<open>[(\[])?\s*"
    r"(?P<label>(?:versi[oó]n|ver|rev(?:isi[oó]n)?|v|r)\.?\s*[_-]?\s*(?P<num>\d+(?:\.\d+)*))\s*(?(open)[)\]])\s*$",
    re.IGNORECASE)
_CODE_TOKEN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_ES_HINTS = re.compile(r"[áéíóúñü¿¡]|\b(?:de|del|la|las|el|los|y|para|por|con|procedimiento|pol[ií]tica|"
                       r"registro|acta|informe|gesti[oó]n|plan|manual|formato|control)\b", re.IGNORECASE)
_EN_HINTS = re.compile(r"\b(?:the|and|of|for|with|to|procedure|policy|record|report|minutes|training|"
                       r"management|form|control|plan|manual|review)\b", re.IGNORECASE)


class Refused(Exception):
    """A file that cannot be imported, with the reason shown to the operator."""


class SetupError(ServiceError):
    """A problem with the command's options or mapping file: reported before anything is written."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(eq=False)
class MappingRow:
    """One line of the --clauses CSV: which file or code it targets and what it sets."""

    where: str  # "mapa.csv line 4", for messages
    key: str
    code: str = ""
    title: str = ""
    clauses: list[str] = field(default_factory=list)
    kind: str = ""
    language: str = ""
    used: bool = False


@dataclass
class NameParts:
    """What a file name says: code (None if it has none), title, revision label and its sort key."""

    code: str | None
    title: str
    label: str | None
    rev: tuple[int, ...]


@dataclass
class SourceFile:
    """One file found in the folder, with the identity the plan gives it."""

    path: Path
    rel: str
    name: str
    code: str
    title: str
    label: str | None
    rev: tuple[int, ...]
    row: MappingRow | None = None


@dataclass
class PlannedDocument:
    """One document to create or extend, its versions in revision order."""

    code: str
    title: str
    kind: str
    language: str
    clauses: list[str]
    files: list[SourceFile]
    named: bool = True  # False: code derived (IMP-...); such documents are imported after named ones


@dataclass
class Plan:
    """Everything the walk found, grouped into documents; nothing is read from or written to the database."""

    root: Path
    documents: list[PlannedDocument]
    problems: list[tuple[str, str]] = field(default_factory=list)
    ignored: int = 0
    warnings: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped before the end (a full disk or database)

    @property
    def file_count(self) -> int:
        """Files the run will visit (for the progress bar)."""
        return sum(len(d.files) for d in self.documents)


@dataclass
class FileResult:
    """What happened to one file: imported, duplicate or rejected, with a detail line."""

    rel: str
    code: str
    label: str | None
    status: str
    detail: str = ""


@dataclass
class Summary:
    """The outcome of a run (or of a dry run), for the operator's summary."""

    dry_run: bool = False
    results: list[FileResult] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    mapped: list[tuple[str, list[str]]] = field(default_factory=list)
    ignored: int = 0
    warnings: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped before the end (a full disk or database)

    def having(self, status: str) -> list[FileResult]:
        """Results with one status, in run order."""
        return [r for r in self.results if r.status == status]


def decoded(text: str) -> str:
    """A file-system name as text: undecodable bytes become U+FFFD, NFC as macOS shares may be NFD."""
    return unicodedata.normalize("NFC", text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


def shown(text: str) -> str:
    """Make a file-system name printable on one line (control characters escaped)."""
    return "".join(f"\\x{ord(ch):02x}" if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in decoded(text))


def revision_key(label: str | None) -> tuple[int, ...]:
    """Numeric sort key of a revision label as written ('Rev. 3' -> (3,), 'v2.1' -> (2, 1)); () for none."""
    match = _MARK.search(" " + (label or ""))
    return tuple(int(n) for n in match["num"].split(".")) if match else ()


def parse_name(name: str) -> NameParts:
    """Read code, title and revision mark from a file name ('PR-SAF-003 Visitas v4.docx')."""
    stem = unicodedata.normalize("NFC", name)
    if extension_of(stem):
        stem = stem.rpartition(".")[0]
    stem = " ".join(stem.replace("_", " ").split())
    label: str | None = None
    rev: tuple[int, ...] = ()
    match = _MARK.search(stem)
    if match and (rest := stem[: match.start()].strip(" -–—")):
        label, rev, stem = " ".join(match["label"].split()), revision_key(match["label"]), rest
    code, title = split_code(stem)
    return NameParts(code, title or code or stem or name, label, rev)


def split_code(stem: str) -> tuple[str | None, str]:
    """Split a leading document code (letters, then 1-3 hyphenated parts) from the title."""
    match = _CODE_TOKEN.match(stem)
    if not match or (stem[match.end():] and not stem[match.end()].isspace()):
        return None, stem
    token, rest = match[0], stem[match.end():]
    parts = token.split("-")
    for n in range(min(4, len(parts)), 1, -1):
        head, tail = parts[:n], parts[n:]
        if not re.fullmatch(r"[A-Za-z]{1,5}", head[0]) or not all(
                re.fullmatch(r"[A-Za-z0-9]{1,8}", p) for p in head[1:]):
            continue
        if not token.islower() and any(p.isalpha() and len(p) > 3 and not p.isupper() for p in head[1:]):
            continue  # 'PR-SAF-003-Visitas': a word glued to the code, not part of it
        return "-".join(head).upper(), ("-".join(tail) + rest).strip(" -–—")
    return None, stem


def identify(name: str, folder: str = "") -> tuple[str, NameParts]:
    """The code a file name gives (written in it, else derived from folder and title) and its parts."""
    parts = parse_name(name)
    return parts.code or derived_code(folder, parts.title), parts


def plan_single(name: str, *, kind: str | None = None, language: str | None = None) -> PlannedDocument:
    """The plan of one file uploaded on its own (web bulk upload): the naming rules of plan_import for a file with
    no folder and no mapping row; kind and language chosen for the batch, else derived as the import does."""
    code, parts = identify(name)
    source = SourceFile(Path(name), name, name, code, parts.title, parts.label, parts.rev)
    return PlannedDocument(code=code, title=parts.title, kind=kind or kind_for(code),
                           language=language or guess_language(parts.title), clauses=[], files=[source],
                           named=parts.code is not None)


def derived_code(folder: str, title: str) -> str:
    """A stable code for a file without one: IMP-, a slug of the title, a hash of folder and title."""
    digest = hashlib.sha256(f"{folder}/{fold(title)}".encode()).hexdigest()[:8].upper()
    slug = "-".join(re.findall(r"[A-Z0-9]+", fold(title).upper()))
    if len(slug) > 24:
        cut = slug[:25]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:24]
    return f"IMP-{slug}-{digest}" if slug else f"IMP-{digest}"


def kind_for(code: str) -> str:
    """Kind from the code prefix (PR procedure, PO/POL policy, FO/FR/F form, RG/REG record, IT instruction)."""
    return KIND_BY_PREFIX.get(code.split("-", 1)[0].upper(), "evidence")


def guess_language(title: str) -> str:
    """'en' only when the title has more English hint words than Spanish hints and accents; else 'es'."""
    return "en" if len(_EN_HINTS.findall(title)) > len(_ES_HINTS.findall(title)) else "es"


def _skipped(name: str) -> bool:
    return name.startswith((".", "~$")) or name.casefold() in SKIP_FILES


def walk(root: Path) -> tuple[list[tuple[Path, str]], list[tuple[str, str]], int]:
    """Regular files under root, sorted; hidden/system files counted; symlinks never followed."""
    root_real = os.path.realpath(root)
    found: list[tuple[Path, str]] = []
    problems: list[tuple[str, str]] = []
    ignored = 0

    def rel(path: Path) -> str:
        return shown(path.relative_to(root).as_posix())

    def link_problem(path: Path) -> str | None:
        target = os.path.realpath(path)
        if not os.path.exists(target):
            return "broken symbolic link"
        if os.path.commonpath([root_real, target]) != root_real:
            return "symbolic link to a place outside the imported folder: not followed"
        return None  # points inside: its target is imported in its own place

    def unreadable(exc: OSError) -> None:
        problems.append((rel(Path(exc.filename)) if exc.filename else "?", f"cannot be read ({exc.strerror})"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        here = Path(dirpath)
        keep = []
        for name in sorted(dirnames):
            if _skipped(name) or name.casefold() in SKIP_DIRS:
                continue
            if (here / name).is_symlink():
                if reason := link_problem(here / name):
                    problems.append((rel(here / name), reason))
                continue
            keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            path = here / name
            if _skipped(name):
                ignored += 1
                continue
            try:
                mode = os.lstat(path).st_mode
            except OSError as exc:
                problems.append((rel(path), f"cannot be read ({exc.strerror})"))
                continue
            if stat.S_ISLNK(mode):
                if reason := link_problem(path):
                    problems.append((rel(path), reason))
                else:
                    ignored += 1
            elif not stat.S_ISREG(mode):
                problems.append((rel(path), "not a regular file"))
            else:
                found.append((path, rel(path)))
    return found, problems, ignored


def natural_key(text: str) -> list[int | str]:
    """Sort key where 'v10' follows 'v9' (split() puts the digit runs at odd positions)."""
    return [int(t) if i % 2 else t.casefold() for i, t in enumerate(re.split(r"(\d+)", text))]


def plan_import(root: Path, *, rows: list[MappingRow] | None = None, kind: str | None = None) -> Plan:
    """Walk the folder and group files into documents; CSV rows (by path or code) override names."""
    rows = rows or []
    by_path = {unicodedata.normalize("NFC", r.key).replace("\\", "/").removeprefix("./").casefold(): r for r in rows}
    by_code = {r.key.upper(): r for r in rows}
    found, problems, ignored = walk(root)
    groups: dict[str, list[SourceFile]] = {}
    derived: set[str] = set()
    for path, rel in found:
        name = decoded(path.name)
        code, parts = identify(name, rel.rpartition("/")[0])
        row = by_path.get(rel.casefold()) or by_code.get(code.upper())
        title = parts.title
        if row:
            row.used = True
            code, title = row.code or code, row.title or title
        if not parts.code and not (row and row.code):
            derived.add(code.upper())
        groups.setdefault(code.upper(), []).append(
            SourceFile(path, rel, name, code, title, parts.label, parts.rev, row))
    plan = Plan(root=root, documents=[], problems=problems, ignored=ignored)
    for key, files in groups.items():
        files.sort(key=lambda f: (f.rev, natural_key(f.rel)))
        latest, code_row = files[-1], by_code.get(key)
        if code_row:
            code_row.used = True
        applied = list(dict.fromkeys(r for r in (code_row, *(f.row for f in reversed(files))) if r))
        title = next((r.title for r in applied if r.title), latest.title)
        clauses = list(dict.fromkeys(ref for r in reversed(applied) for ref in r.clauses))
        plan.documents.append(PlannedDocument(
            code=latest.code, title=title, files=files, clauses=clauses, named=key not in derived,
            kind=next((r.kind for r in applied if r.kind), None) or kind or kind_for(latest.code),
            language=next((r.language for r in applied if r.language), None) or guess_language(title)))
    plan.documents.sort(key=lambda d: not d.named)  # a codeless copy of a coded file is the duplicate
    plan.warnings = [f"{r.where}: “{r.key}” matches no file or code in the folder" for r in rows if not r.used]
    return plan


MAPPING_COLUMNS = ("path_or_code", "code", "title", "clauses", "kind", "language")


def load_mapping(path: Path) -> list[MappingRow]:
    """Read and check the --clauses CSV completely (clauses resolved) before anything is imported."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Excel on Windows
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";" if first.count(";") > first.count(",") else ",")
    header = [h.strip().lower() for h in next(reader, [])]
    where = path.name
    if "path_or_code" not in header:
        raise SetupError(f"{where}: the first line must be a header with path_or_code,code,title,clauses", "--clauses")
    if unknown := [h for h in header if h and h not in MAPPING_COLUMNS]:
        raise SetupError(f"{where}: unknown column “{unknown[0]}” (expected {', '.join(MAPPING_COLUMNS)})",
                         "--clauses")
    rows: list[MappingRow] = []
    seen: set[str] = set()
    for cells in reader:
        values = {h: c.strip() if h == "path_or_code" else " ".join(c.split())
                  for h, c in zip(header, cells, strict=False)}
        if not any(values.values()):
            continue
        at = f"{where} line {reader.line_num}"
        row = MappingRow(at, values.get("path_or_code", ""), values.get("code", ""),
                         values.get("title", ""), [c.strip() for c in values.get("clauses", "").split(";")
                                                   if c.strip()],
                         values.get("kind", "").lower(), values.get("language", "").lower())
        if not row.key or row.key.casefold() in seen:
            raise SetupError(f"{at}: path_or_code is {'empty' if not row.key else 'repeated'}", "--clauses")
        seen.add(row.key.casefold())
        if row.code and not docs.CODE_RE.match(row.code):
            raise SetupError(f"{at}: “{row.code}” is not a valid code (letters, digits and - _ . /)", "--clauses")
        if row.kind and row.kind not in KINDS:
            raise SetupError(f"{at}: unknown kind “{row.kind}” (one of {', '.join(KINDS)})", "--clauses")
        if row.language and row.language not in LANGUAGES:
            raise SetupError(f"{at}: unknown language “{row.language}” (es or en)", "--clauses")
        try:
            row.clauses = [c.ref for c in docs.resolve_clauses(row.clauses)]
        except ServiceError as exc:
            raise SetupError(f"{at}: {exc.message}", "--clauses") from None
        rows.append(row)
    return rows
