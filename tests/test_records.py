"""pxsec.records.Record: what pxsec used of namedtuple, without compiling a class per record."""
from __future__ import annotations

import copy
import pickle
from collections import namedtuple

import pytest
from hypothesis import given, strategies as st

from pxsec.records import Record
from pxsec.spec import KeyRef


class Point(Record, fields="x y z", defaults=(0,)):
    __slots__ = ()


NamedPoint = namedtuple("Point", "x y z", defaults=(0,))


def _outcome(make, *args, **kwargs):
    try:
        return make(*args, **kwargs)
    except TypeError:
        return TypeError


@given(st.lists(st.integers(), max_size=4), st.dictionaries(st.sampled_from("xyzw"), st.integers(), max_size=3))
def test_it_constructs_as_namedtuple_does(args, kwargs):
    got, want = _outcome(Point, *args, **kwargs), _outcome(NamedPoint, *args, **kwargs)
    if want is TypeError:
        assert got is TypeError
        return
    assert tuple(got) == tuple(want) and (got.x, got.y, got.z) == (want.x, want.y, want.z)
    assert repr(got) == repr(want) and got._asdict() == want._asdict()
    assert got._replace(y=7) == want._replace(y=7) and type(got._replace(y=7)) is Point


def test_fields_copy_pickle_and_immutability():
    p = Point(1, 2)
    assert Point._fields == ("x", "y", "z") and Point._field_defaults == {"z": 0}
    assert copy.copy(p) == p and copy.deepcopy(p) == p and pickle.loads(pickle.dumps(p)) == p
    assert hash(p) == hash((1, 2, 0)) and p == (1, 2, 0)
    with pytest.raises(AttributeError):
        p.x = 5
    with pytest.raises(AttributeError):
        p.w = 5  # __slots__ = (): no instance dict
    with pytest.raises(ValueError):
        p._replace(w=1)
    assert KeyRef("s", key="k") == KeyRef(secret_name="s", key="k") == ("s", "k")
