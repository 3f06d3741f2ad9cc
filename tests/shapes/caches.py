from django.core.cache.backends.locmem import LocMemCache


class MyCache(LocMemCache):
    """A per-process cache under another name."""
