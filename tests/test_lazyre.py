"""pxsec.lazyre: a pattern compiled on first use behaves as re.compile's, and compiles once."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from pxsec import lazyre
from pxsec.render.filters import helm_vars


def test_a_lazy_pattern_compiles_on_first_use_and_binds_the_method(monkeypatch):
    compiled = []
    real = re.compile
    monkeypatch.setattr(lazyre.re, "compile", lambda *a: compiled.append(a) or real(*a))
    p = lazyre.compile(r"a(b+)", re.I)
    assert compiled == []
    assert p.search("xABBy").group(1) == "BB"
    assert p.sub("-", "ab ab") == "- -" and p.pattern == "a(b+)" and p.flags & re.I
    assert compiled == [("a(b+)", re.I)]
    assert "search" in vars(p)  # the next call finds the bound method directly
    with pytest.raises(AttributeError):
        p.__wrapped__  # noqa: B018 (dunders are not forwarded)


@given(st.text(alphabet="ab+*?()|.\\[]^$-", max_size=8), st.text(alphabet="abc\n-", max_size=12))
def test_it_answers_as_the_compiled_pattern(pattern, text):
    try:
        want = re.compile(pattern)
    except re.error:
        with pytest.raises(re.error):
            lazyre.compile(pattern).search(text)
        return
    got = lazyre.compile(pattern)
    assert [m.span() for m in got.finditer(text)] == [m.span() for m in want.finditer(text)]
    assert bool(got.match(text)) == bool(want.match(text))


def test_helm_vars_searches_only_text_that_names_a_key():
    """The literal pre-test of secrets_in: each pattern spells a key name or flag, so text
    without one has no match (and the patterns stay uncompiled)."""
    for name in helm_vars._NEEDLES:
        assert name in helm_vars._ENV_KV.pattern or name in helm_vars._FLAG.pattern
    assert helm_vars.secrets_in("replicas=3; image=portworx/oci-monitor:2.8") == []
    flag = next(n for n in helm_vars._NEEDLES if not n.isupper())
    assert helm_vars.secrets_in(f"args: -{flag} s3cr3t") == [f"-{flag}"]
