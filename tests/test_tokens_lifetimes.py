"""pxsec.tokens.lifetimes: `<integer><s|m|h|d|y>` and nothing else."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from pxsec import tokens
from pxsec.errors import PxsecError


# --- lifetimes -------------------------------------------------------------------------------

@given(st.integers(min_value=1, max_value=100), st.sampled_from("smhdy"))
def test_lifetime_is_a_number_and_one_unit(n, unit):
    mult = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}[unit]
    assert tokens.parse_lifetime(f"{n}{unit}") == n * mult


def test_lifetime_year_is_365_days():
    assert tokens.parse_lifetime("1y") == 365 * 24 * 3600


@pytest.mark.parametrize("bad", ["1h30m", "", "h", "24", "1w", "-1h", "+1h", "1.5h", "1 h", "1H", "0s", "0y", "101y",
                                 "\u0661h", "1hh"])
def test_lifetime_rejects(bad):
    with pytest.raises(PxsecError):
        tokens.parse_lifetime(bad)


@given(st.text())
def test_lifetime_accepts_only_the_openstorage_form(text):
    import re

    try:
        seconds = tokens.parse_lifetime(text)
    except PxsecError:
        return
    assert re.fullmatch(r"\s*[0-9]+[smhdy]\s*", text) and 0 < seconds <= tokens.MAX_LIFETIME
