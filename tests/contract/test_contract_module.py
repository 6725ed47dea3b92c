"""The contract module stands alone: what it writes out as text still agrees with the service's rules."""

from __future__ import annotations

import typing

from domain.candles import VWAP_SCALE
from market_data_client import contract


def test_the_vwap_description_names_the_domain_scale() -> None:
    meta = typing.get_args(contract.Vwap)[1]
    assert f"to {VWAP_SCALE} places" in meta.description
