"""The Portworx vocabulary lives in renderer/portworx.py, once: no other module of pxsec spells a
Portworx name as a string literal (docstrings and comments aside; messages build their text
from portworx's names), and no module re-exports one of its names under another name."""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from pxsec import portworx as px

RENDERER = Path(__file__).resolve().parent.parent / "renderer"
NAMES = set(px.PX_KEY_ENV + px.SECRET_ENV + (px.STORK_ISSUER_ENV,) + px.OWNED_FLAGS + px.FLAG_ENV_TWINS
            + px.OPERATOR_OWNED_SECRETS)
# Values, not only names: every issuer, the token Secret's key, Portworx's host directory and Stork's
# API group (which its annotation and parameter keys contain, e.g. stork.libopenstorage.org/skip-resource).
NAMES |= set(px.STORK_ISSUER_KEY_ENV) | {px.OPERATOR_ISSUER, px.TOKEN_KEY, px.PWX_DIR, px.STORK_API_GROUP}
# What the operator reads for versions and default StorageClasses, and the annotations pxsec reads.
NAMES |= {px.PX_IMAGE_ENV, px.PX_RELEASE_MANIFEST_ENV, px.PX_VERSION_ANNOTATION, px.STORK_VERSION_ANNOTATION,
          px.DISABLE_SC_ANNOTATION, px.HELM_VARS_ANNOTATION, px.MISC_ARGS}
PREFIXES = {px.AUTH_SECRET_PREFIX}  # found with whatever follows (openstorage.io/auth-secret-name, -*)
LITERAL = re.compile(r"(?<![\w-])(PORTWORX_AUTH_\w+|" + "|".join(map(re.escape, sorted(PREFIXES))) + "|(?:"
                     + "|".join(map(re.escape, sorted(NAMES, key=len, reverse=True))) + r")(?![\w-]))")


def _modules():
    for path in sorted(RENDERER.rglob("*.py")):
        rel = path.relative_to(RENDERER).as_posix()
        if rel != "portworx.py":
            yield rel, path.read_text(encoding="utf-8")


def _docstrings(tree) -> set[int]:
    """Line numbers where a docstring starts."""
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.body \
                and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant) \
                and isinstance(n.body[0].value.value, str):
            out.add(n.body[0].value.lineno)
    return out


def literals(source: str) -> list[tuple[int, str]]:
    """(line, name) of every Portworx name written in a string token that is not a docstring."""
    docs = _docstrings(ast.parse(source))
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING and tok.start[0] not in docs:
            text = re.sub(r"\{[^{}]*\}", "", tok.string) if re.match(r"[rbuRBU]*[fF]", tok.string) else tok.string
            found += [(tok.start[0], m.group(1)) for m in LITERAL.finditer(text)]
    return found


def test_the_finder_finds_literals_and_skips_docstrings_comments_and_names():
    source = ('"""PX_SHARED_SECRET in a docstring."""\n'
              'A = "PX_SHARED_SECRET"  # PORTWORX_AUTH_SYSTEM_KEY in a comment\n'
              'B = f"set {px.STORK_SECRET} and -jwt_issuer"\n'
              'C = "PORTWORX_AUTH_* settings"\n')
    assert literals(source) == [(2, "PX_SHARED_SECRET"), (3, "-jwt_issuer")]
    assert literals('D = "openstorage.io/auth-secret-name"\nE = f"the {px.MISC_ARGS} and PX_IMAGE"\n') == \
        [(1, "openstorage.io/auth-secret-"), (2, "PX_IMAGE")]


def test_the_finder_finds_portworx_values():
    """Issuers, the token key, /etc/pwx and Stork's group, also inside a longer key or path; a
    message that builds them from portworx's names is fine."""
    source = ('A = {"stork.issuer": "stork.openstorage.io"}  # apps.portworx.io in a comment\n'
              'B = ("auth-token", "/etc/pwx/jwt", "snapshotschedule.stork.libopenstorage.org/daily-schedule")\n'
              'C = f"signs as {px.APPS_ISSUER}, under key {px.TOKEN_KEY} of {px.STORK_SKIP_RESOURCE}"\n'
              'D = ("operator.portworx.io", "px-auth-token", "/etc/pwx-secrets")\n')
    assert literals(source) == [(1, "stork.openstorage.io"), (2, "auth-token"), (2, "/etc/pwx"),
                                (2, "stork.libopenstorage.org"), (4, "operator.portworx.io")]


def test_no_portworx_literal_outside_portworx_py():
    found = {rel: hits for rel, source in _modules() for hits in [literals(source)] if hits}
    assert found == {}


def test_no_module_renames_a_portworx_name():
    """`X = px.Y` at module level makes a second name for one fact; import `px` and write px.Y."""
    found = []
    for rel, source in _modules():
        for node in ast.parse(source).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute) \
                    and isinstance(node.value.value, ast.Name) and node.value.value.id in ("px", "pw", "portworx"):
                found.append(f"{rel}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("portworx"):
                found += [f"{rel}:{node.lineno} {a.name} as {a.asname}" for a in node.names if a.asname]
    assert found == []


# --- which container is Portworx, Stork or autopilot: runs_image against its regex -------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

REPOS = (px.OCI_MONITOR_REPO, px.STORK_REPO, px.AUTOPILOT_REPO)
PIECES = REPOS + ("/", ":", "@", "\n", "x", "-", "docker.io/", "portworx", "stork", "oci-monitor", ":2.13", "@sha256:ab")


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=6).map("".join), st.sampled_from(REPOS))
def test_runs_image_decides_as_the_image_pattern_does(image, repo):
    assert px.runs_image(image, repo) == (re.search(px.image_pattern(repo), image) is not None)


def test_runs_image_examples():
    ok = ("portworx/oci-monitor", "docker.io/portworx/oci-monitor:3.1.0", "r.example/a/portworx/oci-monitor@sha256:1",
          "portworx/oci-monitor\n", "a/portworx/oci-monitor-x/portworx/oci-monitor")
    no = ("portworx/oci-monitorx", "myportworx/oci-monitor", "portworx/oci-monitor\n\n", "portworx/oci-monitor/x",
          "", "portworx/oci")
    assert [px.runs_image(i, px.OCI_MONITOR_REPO) for i in ok] == [True] * len(ok)
    assert [px.runs_image(i, px.OCI_MONITOR_REPO) for i in no] == [False] * len(no)
    assert px.image_pattern(px.STORK_REPO) == r"(^|/)openstorage/stork(:|@|$)"  # the policy's CEL pattern
