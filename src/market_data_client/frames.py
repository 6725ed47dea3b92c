"""pandas DataFrames of candles and trades, for the `[pandas]` extra; the client works without pandas."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from market_data_client.contract import CandleOut, TradeOut

if TYPE_CHECKING:
    import pandas

EXTRA = "market-data-platform[pandas]"


class PandasMissing(ImportError):
    """A *_frame method was called without pandas installed."""


def require_pandas(method: str) -> Any:
    """The pandas module, or PandasMissing naming the extra; checked before any request is sent."""
    try:
        return importlib.import_module("pandas")
    except ImportError:
        raise PandasMissing(f"{method}() needs pandas: pip install '{EXTRA}'") from None


def candles_frame(candles: Sequence[CandleOut]) -> pandas.DataFrame:
    """One row per candle, the columns of CandleOut in order; prices stay exact Decimals, times UTC."""
    return _frame(candles, CandleOut, "candles_frame")


def trades_frame(trades: Sequence[TradeOut]) -> pandas.DataFrame:
    """One row per trade, the columns of TradeOut in order; prices stay exact Decimals, times UTC."""
    return _frame(trades, TradeOut, "trades_frame")


def _frame(rows: Sequence[msgspec.Struct], kind: type[msgspec.Struct], method: str) -> pandas.DataFrame:
    pd = require_pandas(method)
    columns = list(kind.__struct_fields__)
    frame: pandas.DataFrame = pd.DataFrame([msgspec.structs.astuple(row) for row in rows], columns=columns)
    return frame
