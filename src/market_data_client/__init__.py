"""A Python client of the market data service's REST API; its answers are the types of `contract`."""

from market_data_client.aio import AsyncMarketDataClient
from market_data_client.calls import ApiError, RetryPolicy
from market_data_client.client import MarketDataClient
from market_data_client.frames import PandasMissing

__all__ = ["ApiError", "AsyncMarketDataClient", "MarketDataClient", "PandasMissing", "RetryPolicy"]
