"""The package's layout (../shared/docs/architecture.md): data flows one way and the folders show it.

    main -> cli -> commands/ -> { audit/, tokens/, adapters/, flux/ } -> render/ -> spec/ -> kubeyaml/, sources
                                            ... -> effective model, portworx vocabulary, errors, log

A room is a top-level module of renderer/ or a top-level package (commands/, render/, spec/, ...).
Imports are read with ast from every renderer/**/*.py, lazy ones inside functions included.
The allow-lists below are known violations, each with why it is still there: shrink them, never
grow them (a listed entry that no longer exists fails too, so a fix removes it here).
"""
from __future__ import annotations

import ast
from pathlib import Path

RENDERER = Path(__file__).resolve().parent.parent / "renderer"

# Circles between rooms that are known, as the one edge (importer room -> imported room) that
# closes each (none left: spec/argocd_params.py, and goshlex.py and px_version.py on the ground
# floor, closed the last two).
CIRCLE_EDGES: set[tuple[str, str]] = set()

# audit/ reads the effective model and the vocabulary, not render's filters; these still do, for
# code rather than facts: PXS034 finds key values in annotations with the patterns helm_vars scrubs
# them with (render's diff redaction uses them too), and PXS042 asks which default StorageClasses the
# operator makes (operator_storageclasses.default_classes) and whether guest access leaves them
# unusable (operator_warnings.storageclass_warning). Fix: give the operator's StorageClass rules a
# home in the effective model, and the annotation patterns a ground-floor module, with the filters
# importing them from there.
AUDIT_READS_FILTERS = {
    ("audit/rules_operator.py", "pxsec.render.filters.helm_vars"),
    ("audit/rules_operator.py", "pxsec.render.filters.operator_storageclasses"),
    ("audit/rules_operator.py", "pxsec.render.filters.operator_warnings"),
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(RENDERER.rglob("*.py")):
        parts = path.relative_to(RENDERER).with_suffix("").parts
        found[".".join(("pxsec",) + (parts[:-1] if parts[-1] == "__init__" else parts))] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path):
    """(imported module, line) for every pxsec import of a module: `from .x import y` names the
    module x.y when y is a module, else x."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "pxsec" or module.startswith("pxsec."):
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    yield (sub if sub in MODULES else module), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "pxsec" or alias.name.startswith("pxsec."):
                    yield alias.name, node.lineno


IMPORTS = [(name, path.relative_to(RENDERER).as_posix(), target, line)
           for name, path in MODULES.items() for target, line in _imports(name, path)]


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _under(module: str, *packages: str) -> bool:
    return any(module == f"pxsec.{p}" or module.startswith(f"pxsec.{p}.") for p in packages)


def test_the_imports_are_read():
    """The reader sees the package (a broken reader would make every test below pass)."""
    assert {"pxsec.render.pipeline", "pxsec.spec", "pxsec.kubeyaml.kyaml", "pxsec.commands.render"} <= set(MODULES)
    assert any(n == "pxsec.render.pipeline" and t == "pxsec.spec" for n, _, t, _ in IMPORTS)
    assert any(n == "pxsec.commands.render" and t == "pxsec.render.pipeline" for n, _, t, _ in IMPORTS)  # lazy


def test_the_rooms_are_where_the_architecture_puts_them():
    for gone in ("fastpath", "scaffold", "pipeline", "stream", "patch", "generated_secret", "diff", "redact",
                 "spec_problems", "templating", "kyaml", "yamlsafe", "jsonpatch", "keys", "filters", "argocd_params"):
        assert not (RENDERER / f"{gone}.py").exists() and not list((RENDERER / gone).glob("*.py")), gone
    for gone in ("render/filters/goshlex", "render/filters/px_version"):  # on the ground floor now
        assert not (RENDERER / f"{gone}.py").exists(), gone
    for module in ("commands.render", "commands.init", "commands.validate", "render.pipeline", "render.stream",
                   "render.patch", "render.generated_secret", "render.diff", "render.redact",
                   "render.filters.common", "spec", "spec.problems", "spec.templating", "spec.argocd_params", "kubeyaml.kyaml",
                   "kubeyaml.yamlsafe", "kubeyaml.jsonpatch", "flux", "tokens.keys", "goshlex", "px_version"):
        assert f"pxsec.{module}" in MODULES, module


def test_every_cli_command_lives_in_commands():
    """Each top-level command has its module in commands/ (`token` is commands/tokens.py); cli.py
    only wires Typer options to it. `version` prints pxsec.__version__ and has nothing to move."""
    from pxsec import cli

    names = set(cli.command().commands)
    assert {"render", "validate", "init", "check", "token", "keys", "policy", "patches"} <= names
    for name in names - {"version"}:
        module = {"token": "tokens"}.get(name, name.replace("-", "_"))
        assert (RENDERER / "commands" / f"{module}.py").is_file(), f"`pxsec {name}` has no commands/{module}.py"
    # the commands cli.py declares itself: the body calls into commands/<name> and does nothing else
    tree = ast.parse((RENDERER / "cli.py").read_text(encoding="utf-8"))
    declared = [f for f in tree.body if isinstance(f, ast.FunctionDef)
                and any(isinstance(d, ast.Call) and ast.unparse(d.func) == "app.command" for d in f.decorator_list)]
    assert len(declared) >= 5
    for f in declared:
        if f.name == "version":
            continue
        body = [s for s in f.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        first = body[0]
        assert isinstance(first, ast.ImportFrom) and first.level == 1 and first.module == "commands" \
            and [a.name for a in first.names] == [f.name], f"cli.{f.name} does not start by importing commands/{f.name}"
        assert len(body) <= 4, f"cli.{f.name} does more than call commands/{f.name}"


def test_render_spec_and_kubeyaml_import_nothing_above_them():
    bad = [f"{rel}:{line} imports {target}" for name, rel, target, line in IMPORTS
           if _under(name, "render", "spec", "kubeyaml") and _under(target, "commands", "adapters", "audit", "flux")]
    assert bad == []


def test_kubeyaml_imports_neither_render_nor_spec():
    bad = [f"{rel}:{line} imports {target}" for name, rel, target, line in IMPORTS
           if _under(name, "kubeyaml") and _under(target, "render", "spec")]
    assert bad == []


def test_audit_does_not_reach_into_render_filters():
    found = {(rel, target) for name, rel, target, _ in IMPORTS
             if _under(name, "audit") and _under(target, "render.filters")}
    assert found - AUDIT_READS_FILTERS == set(), "audit/ imports render/filters/ (read the model or portworx.py)"
    assert AUDIT_READS_FILTERS - found == set(), "fixed: remove these from AUDIT_READS_FILTERS"


def _circles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components of more than one room (Tarjan)."""
    rooms = sorted({r for e in edges for r in e})
    graph = {r: sorted(b for a, b in edges if a == r) for r in rooms}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for r in rooms:
        if r not in index:
            visit(r)
    return found


def test_circles_are_found():
    assert _circles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]
    assert _circles({("a", "b"), ("b", "c")}) == []


def test_no_import_circle_between_rooms():
    edges = {(_room(name), _room(target)) for name, _, target, _ in IMPORTS if _room(name) != _room(target)}
    assert CIRCLE_EDGES - edges == set(), "fixed: remove these from CIRCLE_EDGES"
    circles = _circles(edges - CIRCLE_EDGES)
    where = {c: [f"{rel}:{line} -> {t}" for n, rel, t, line in IMPORTS
                 if _room(n) in c and _room(t) in c and _room(n) != _room(t)] for c in map(tuple, circles)}
    assert circles == [], where
