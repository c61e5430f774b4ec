"""CEL text for the admission policy (policy.py): literals and the small expressions it is built
from. Every value enters an expression through `lit` (a CEL string literal, escaped by
json.dumps), never spliced in raw; names and image patterns come from portworx.py.

The container, env and argv predicates state, in CEL, what the kubelet and px-runc read:
- env: the last inline entry of a name wins (kubelet `makeEnvironmentVariables` fills a map in
  order), so a key is "set from a Secret" when every entry of that name is that secretKeyRef;
- argv: `command` + `args` is px-runc's argv; Go's flag package takes a non-boolean flag's value
  inline (`-f=v`) or from the next element, and reads `-f` and `--f` alike (portworx.scan_flags).
"""
from __future__ import annotations

import json
import re

from . import portworx as px


def lit(value: str) -> str:
    """A CEL string literal: JSON's escapes are CEL's (\\", \\\\, \\n, \\uXXXX)."""
    return json.dumps(value, ensure_ascii=False)


def lits(values) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


# portworx.py's image patterns, unchanged: Python `re` and RE2 (CEL `matches`) read these alike
PORTWORX_IMAGE = px.image_pattern(px.OCI_MONITOR_REPO)
STORK_IMAGE = px.image_pattern(px.STORK_REPO)
# portworx.shell_wrapped: a shell by basename (SHELLS, or sh/bash/zsh/... with a version)
SHELL_PATTERN = "^(.*/)?(" + "|".join(sorted(px.SHELLS)) + r"|(ba|z|k|da)?sh[0-9.]*)$"
ENV_PATTERN = "^(.*/)?env$"


def is_portworx(c: str) -> str:
    """portworx.is_portworx_container for container `c`."""
    return f"({c}.name == 'portworx' || (has({c}.image) && {c}.image.matches({lit(PORTWORX_IMAGE)})))"


def is_stork(c: str) -> str:
    return f"({c}.name == 'stork' || (has({c}.image) && {c}.image.matches({lit(STORK_IMAGE)})))"


def shell_wrapped(c: str) -> str:
    """portworx.shell_wrapped: command[0] is a shell, or `env [VAR=x|-opt ...] <shell>`."""
    cmd = f"{c}.command"
    rest = f"{cmd}.filter(w, !w.contains('=') && !w.startsWith('-'))"
    return (f"(has({cmd}) && size({cmd}) > 0 && ({cmd}[0].matches({lit(SHELL_PATTERN)}) || "
            f"({cmd}[0].matches({lit(ENV_PATTERN)}) && size({rest}) > 1 && {rest}[1].matches({lit(SHELL_PATTERN)}))))")


def env_from_secret(holder: str, name: str, secret: str, key: str) -> str:
    """`holder.env` sets `name`, and every entry of it is a secretKeyRef to secret/key that is not
    `optional` (an optional reference to a missing Secret or key leaves the variable unset:
    kubelet `makeEnvironmentVariables`)."""
    env = f"{holder}.env"
    ref = "e.valueFrom.secretKeyRef"
    return (f"(has({env}) && {env}.exists(e, e.name == {lit(name)}) && {env}.all(e, e.name != {lit(name)} || "
            f"(has(e.valueFrom) && has({ref}) && {ref}.name == {lit(secret)} && {ref}.key == {lit(key)} && "
            f"!(has({ref}.optional) && {ref}.optional))))")


def env_literal(holder: str, name: str, value: str) -> str:
    """`holder.env` sets `name`, and every entry of it is the literal `value`."""
    env = f"{holder}.env"
    return (f"(has({env}) && {env}.exists(e, e.name == {lit(name)}) && {env}.all(e, e.name != {lit(name)} || "
            f"(!has(e.valueFrom) && has(e.value) && e.value == {lit(value)})))")


def env_without(holder: str, names) -> str:
    env = f"{holder}.env"
    return f"(!has({env}) || !{env}.exists(e, e.name in {lits(names)}))"


def env_no_literal(holder: str, names) -> str:
    """No entry of these names is a literal value (secrets belong in Secrets)."""
    env = f"{holder}.env"
    return f"(!has({env}) || !{env}.exists(e, e.name in {lits(names)} && has(e.value)))"


def flag_pattern(flags) -> str:
    """RE2 for an argv element naming one of `flags` (`-f`, `--f`, `-f=v`, `--f=v`)."""
    names = "|".join(re.escape(f.lstrip("-")) for f in flags)
    return f"^--?({names})(=|$)"


def words_with_flag(words: str, flags) -> str:
    return f"{words}.exists(a, a.matches({lit(flag_pattern(flags))}))"


def words_without_flags(words: str, flags) -> str:
    return "!" + words_with_flag(words, flags)


def flag_once(words: str, flag: str, value: str) -> str:
    """`words` (a list of strings) names `flag` exactly once, with `value` (inline or next)."""
    name = flag.lstrip("-")
    count = f"size({words}.filter(a, a.matches({lit(flag_pattern([flag]))})))"
    inline = f"{words}.exists(a, a == {lit('-' + name + '=' + value)} || a == {lit('--' + name + '=' + value)})"
    nexts = [f"({words}.exists(a, a == {lit(form)}) && {words}.indexOf({lit(form)}) + 1 < size({words}) && "
             f"{words}[{words}.indexOf({lit(form)}) + 1] == {lit(value)})" for form in ("-" + name, "--" + name)]
    return f"({count} == 1 && ({inline} || {' || '.join(nexts)}))"


def misc_words(text: str) -> str:
    """px-runc words of a misc-args string up to its comment, split on blanks. google/shlex starts
    a comment at a word beginning with '#' (the operator ignores the rest); quoting is not read:
    render writes every value it sets as one word without blanks when it can (policy.py checks
    render's exact text otherwise)."""
    blanks = f"{text}.replace('\\t', ' ').replace('\\n', ' ').replace('\\r', ' ')"
    return f"(' ' + {blanks}).split(' #')[0].split(' ').filter(w, w != '')"
