"""The arrows between domains go one way (DESIGN: epi reads cases, oplog reads juki).

Every ``import kumin.<pkg>…`` in ``src/kumin`` — at the top of a module or inside a
function, a lazy import is still a dependency — is an edge between the packages;
among the domains of :data:`kumin.domains.DOMAINS` these edges must form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kumin
from kumin.domains import DOMAINS

SRC = Path(kumin.__file__).resolve().parent
#: core is below everything; the other domains are the vertical slices
DOMAIN_NAMES = {d.name for d in DOMAINS} - {"core"}


def package_edges(root: Path = SRC) -> dict[str, dict[str, set[str]]]:
    """``{package: {imported package: {importing modules}}}`` for kumin's subpackages."""
    edges: dict[str, dict[str, set[str]]] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if len(parts) < 2:  # kumin/domains.py, kumin/errors.py: not in a package
            continue
        pkg, module = parts[0], "kumin." + ".".join(parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                bits = name.split(".")
                if bits[0] == "kumin" and len(bits) > 1 and bits[1] != pkg:
                    edges.setdefault(pkg, {}).setdefault(bits[1], set()).add(module)
    return edges


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path ``[a, b, …, a]``, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def domain_graph() -> tuple[dict[str, set[str]], dict[str, dict[str, set[str]]]]:
    edges = package_edges()
    graph = {
        a: {b for b in targets if b in DOMAIN_NAMES}
        for a, targets in edges.items()
        if a in DOMAIN_NAMES
    }
    return graph, edges


def test_find_cycle_finds_one():
    assert find_cycle({"juki": {"cards"}, "oplog": {"juki"}}) is None
    assert find_cycle({"juki": {"oplog"}, "oplog": {"juki"}}) == ["juki", "oplog", "juki"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_cycle_between_domains():
    graph, edges = domain_graph()
    cycle = find_cycle(graph)
    if cycle:
        where = {f"{a} → {b}": sorted(edges[a][b]) for a, b in zip(cycle, cycle[1:], strict=False)}
        raise AssertionError(f"import cycle between domains: {' → '.join(cycle)}; {where}")


def test_oplog_reads_juki_never_the_reverse():
    graph, edges = domain_graph()
    assert "juki" in graph["oplog"]  # the governance context is read from juki's tables
    assert "oplog" not in graph.get("juki", set()), sorted(edges["juki"]["oplog"])


def test_reports_package_imports_no_domain():
    """Domains contribute report sections through kumin.domains; the report package
    that assembles them imports none of them (or every domain would depend on all)."""
    edges = package_edges()
    assert not set(edges.get("reports", {})) & (DOMAIN_NAMES - {"reports"})
