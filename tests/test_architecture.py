"""The house rules that keep the layers honest, checked on the source: no role literal where the policy should
decide, no commit in a view, no import cycle, no import tucked inside a function."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from auditdocs.models.users import ROLES

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "auditdocs"
ROLE_CONSTANTS = {"ADMIN", "QUALITY_OFFICER", "COMPLIANCE_OFFICER", "AUDITOR", "ROLES", "READ_ONLY_ROLES",
                  "APPROVED_ONLY_ROLES", "RECORDED_ACCESS_ROLES", "READ_APPROVED_ONLY", "CAPABILITIES"}
ROLE_NAMES = "|".join(ROLES)
TEMPLATE_ROLE = re.compile(rf"""["'](?:{ROLE_NAMES})["']|\.role\s*(?:==|!=|\bin\b|\bnot\s+in\b)|\bis_admin\b""")


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _runtime_top_level(tree: ast.Module) -> list[ast.stmt]:
    """Top-level statements that run at import (the body of `if TYPE_CHECKING:` does not)."""
    out: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out.extend(node.orelse)
        elif isinstance(node, ast.Try):
            out.extend([*node.body, *node.orelse, *node.finalbody])
        else:
            out.append(node)
    return out


def import_targets(name: str, path: Path, node: ast.stmt, known: dict[str, Path]) -> set[str]:
    """The package modules an import statement loads (a name imported from a package may be a submodule)."""
    found: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name in known:
                found.add(alias.name)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = name.split(".") if _is_package(path) else name.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        if source not in known:
            return found
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            found.add(sub if sub in known else source)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text("utf-8"))
        edges: set[str] = set()
        for node in _runtime_top_level(tree):
            edges |= import_targets(name, path, node, known)
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_resolves_relative_imports():
    graph = import_graph()
    assert "auditdocs.extensions" in graph["auditdocs.db"]
    assert "auditdocs.services.uploads" in graph["auditdocs.web.documents.pages"]  # `from ...services import uploads`
    assert "auditdocs.web.documents.blueprint" in graph["auditdocs.web.documents.pages"]
    assert len(graph) > 50


def test_no_module_level_import_cycle():
    assert cycles(import_graph()) == []


def test_no_import_inside_a_function():
    """Imports hidden in functions usually dodge a cycle; every import sits at the top of its module."""
    hidden = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                hidden += [f"{name}:{inner.lineno}" for inner in ast.walk(node)
                           if isinstance(inner, (ast.Import, ast.ImportFrom))]
    assert hidden == []


def _python_role_uses(path: Path) -> list[str]:
    """Role names as string literals, comparisons on `.role`, and imports of role constants."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Constant) and node.value in ROLES:
            found.append(f"{path.name}:{node.lineno} literal {node.value!r}")
        elif isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Attribute) and side.attr == "role" for side in [node.left, *node.comparators]):
            found.append(f"{path.name}:{node.lineno} compares .role")
        elif isinstance(node, ast.ImportFrom) and any(a.name in ROLE_CONSTANTS for a in node.names):
            found.append(f"{path.name}:{node.lineno} imports a role constant")
    return found


def test_web_and_templates_hold_no_role_rule():
    """Who may do what is decided in auditdocs/policy.py; views and templates read its booleans."""
    found = []
    for path in sorted((PACKAGE / "web").rglob("*.py")):
        found += _python_role_uses(path)
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if TEMPLATE_ROLE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert found == []


def test_the_role_check_catches_what_it_should(tmp_path):
    sample = tmp_path / "view.py"
    sample.write_text('from ..models.users import AUDITOR\nif user.role == x or r in ("auditor",):\n    pass\n')
    assert len(_python_role_uses(sample)) == 3
    assert TEMPLATE_ROLE.search("{% if current_user.role == 'auditor' %}")
    assert TEMPLATE_ROLE.search("{% if user.is_admin %}")
    assert not TEMPLATE_ROLE.search("{{ role_label(current_user.role) }}")


def test_no_commit_in_views():
    """Views write through write_transaction(), the one place that commits."""
    found = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((PACKAGE / "web").rglob("*.py"))
             for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1) if ".commit(" in line]
    assert found == []


def test_whoosh_is_imported_only_by_the_search_engine_modules():
    """Every Whoosh call stays behind the SearchBackend interface, so another engine can replace it."""
    found = []
    for name, path in modules().items():
        if name.startswith("auditdocs.search.whoosh_"):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{name}:{node.lineno} {n}" for n in names if n == "whoosh" or n.startswith("whoosh.")]
    assert found == []
