"""Immutable records for the render path: namedtuples without namedtuple's start-up cost.

`collections.namedtuple` compiles source for each class it makes (about 0.2 ms apiece); a small
render made ten of them before reading its input. A `Record` subclass names its fields in its
class statement and gets what pxsec uses of a namedtuple: positional and keyword construction
with defaults (the same TypeErrors), attribute access, tuple equality and hashing, `_fields`,
`_field_defaults`, `_replace`, `_asdict`, a namedtuple-style repr, and copying and pickling.

    class KeyRef(Record, fields="secret_name key"):
        __slots__ = ()
"""
from __future__ import annotations

from operator import itemgetter


class Record(tuple):
    __slots__ = ()
    _fields: tuple = ()
    _field_defaults: dict = {}

    def __init_subclass__(cls, fields: str = "", defaults: tuple = (), **kw):
        super().__init_subclass__(**kw)
        names = tuple(fields.replace(",", " ").split())
        if len(defaults) > len(names):
            raise TypeError("got more default values than fields")
        cls._fields = names
        cls._field_defaults = dict(zip(names[len(names) - len(defaults):], defaults))
        for i, name in enumerate(names):
            setattr(cls, name, property(itemgetter(i), doc=f"Alias for field number {i}"))

    def __new__(cls, *args, **kwargs):
        fields = cls._fields
        if not kwargs and len(args) == len(fields):
            return tuple.__new__(cls, args)
        if len(args) > len(fields):
            raise TypeError(f"{cls.__name__}() takes {len(fields)} positional arguments but {len(args)} were given")
        values = list(args)
        for name in fields[:len(args)]:
            if name in kwargs:
                raise TypeError(f"{cls.__name__}() got multiple values for argument '{name}'")
        missing = []
        for name in fields[len(args):]:
            if name in kwargs:
                values.append(kwargs.pop(name))
            elif name in cls._field_defaults:
                values.append(cls._field_defaults[name])
            else:
                missing.append(name)
        if missing:
            raise TypeError(f"{cls.__name__}() missing {len(missing)} required argument(s): {', '.join(missing)}")
        if kwargs:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument '{next(iter(kwargs))}'")
        return tuple.__new__(cls, values)

    def _replace(self, **changes):
        values = [changes.pop(name, value) for name, value in zip(self._fields, self)]
        if changes:
            raise ValueError(f"Got unexpected field names: {list(changes)!r}")
        return tuple.__new__(type(self), values)

    def _asdict(self) -> dict:
        return dict(zip(self._fields, self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={v!r}' for n, v in zip(self._fields, self))})"

    def __getnewargs__(self):
        return tuple(self)
