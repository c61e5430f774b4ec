"""Jinja2 templates of generated objects, emitted through a safe serializer.

Templates may only print values passed through the `yaml` filter, which renders a JSON string
(valid YAML, every character escaped as needed), or the `uri` filter, which passes one word of
printable ASCII for a comment (`$schema=...`); `finalize` refuses anything else, so no value or
name can break out of its scalar. The rendered text is parsed back and compared
with the data that went in, as a second line of defence.
"""
from __future__ import annotations

import json
from functools import lru_cache

import yaml

from ..data import data_dir


class _Scalar(str):
    """A value already serialized as a YAML scalar."""


def _astral(m) -> str:
    hi, lo = int(m.group(1), 16), int(m.group(2), 16)
    return "\\U%08x" % (0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))


def _yaml_filter(value) -> _Scalar:
    if value is None or isinstance(value, (bool, int, float)):
        return _Scalar(json.dumps(value))
    text = str(value)
    text.encode("utf-8")  # a lone surrogate is not text: UnicodeEncodeError (a ValueError)
    quoted = json.dumps(text, ensure_ascii=True)
    if "\\ud" in quoted:  # JSON writes U+10000 and above as a surrogate pair; YAML wants \UXXXXXXXX
        import re

        quoted = re.sub(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", _astral, quoted)
    return _Scalar(quoted)


def _uri_filter(value) -> _Scalar:
    """A URI for a comment (`$schema=...`): printed bare, so it must be one word of printable
    ASCII that cannot end the comment or the line."""
    text = str(value)
    if not text.isascii() or not text.isprintable() or any(c.isspace() for c in text) or "://" not in text:
        raise ValueError("not a URI that fits in a comment")
    return _Scalar(text)


def _finalize(value):
    if isinstance(value, _Scalar):
        return value
    raise ValueError("template printed a value without the yaml filter")


@lru_cache(maxsize=None)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("templates")),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=True,
    )
    env.filters["yaml"] = _yaml_filter
    env.filters["uri"] = _uri_filter
    return env


def render(template: str, **context) -> tuple[str, dict]:
    """(text, parsed object) of a template; the caller checks the object is what it meant."""
    text = _environment().get_template(template).render(**context)
    if not text.endswith("\n"):
        text += "\n"
    return text, yaml.load(text, Loader=yaml.CSafeLoader)
