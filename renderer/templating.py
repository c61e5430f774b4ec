"""Jinja2 templates of generated objects, emitted through a safe serializer.

Templates may only print values passed through the `yaml` filter, which renders a JSON
string (valid YAML, every character escaped as needed); `finalize` refuses anything else, so
no value or name can break out of its scalar. The rendered text is parsed back and compared
with the data that went in, as a second line of defence.
"""
from __future__ import annotations

import json
from functools import lru_cache

import yaml

from .data import data_dir


class _Scalar(str):
    """A value already serialized as a YAML scalar."""


def _yaml_filter(value) -> _Scalar:
    if value is None or isinstance(value, (bool, int, float)):
        return _Scalar(json.dumps(value))
    return _Scalar(json.dumps(str(value), ensure_ascii=True))


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
    return env


def render(template: str, **context) -> tuple[str, dict]:
    """(text, parsed object) of a template; the caller checks the object is what it meant."""
    text = _environment().get_template(template).render(**context)
    if not text.endswith("\n"):
        text += "\n"
    return text, yaml.load(text, Loader=yaml.CSafeLoader)
