"""Varnish keeps the example's language variants apart (Vary: Accept-Language).

The same URL fetched in English and in French through Varnish: each language is stored as
its own variant and served from the cache in that language, never the other's; once
stale, each variant is revalidated with its own tag and the origin answers 304 within it.
"""

from __future__ import annotations

import time

import pytest

from .test_varnish import STALE, assert_hit, cache, describe, log, x_cache  # noqa: F401  (fixtures)

LANGUAGES = {"en": "Product 7", "fr": "Produit 7"}  # the seeded name of product 7 in each


@pytest.mark.parametrize("path", ["/products/7/", "/api/products/7/"])
def test_each_language_from_the_cache_never_the_other(cache, log, path):  # noqa: F811
    def headers(language: str) -> dict[str, str]:
        return {"Accept": "application/json", "Accept-Language": language}

    def fetch(language: str):
        return cache.get(path, headers(language))

    # Straight to the origin first: the first 200s of a view may go out without a tag
    # while the app learns what it reads and varies on (R26).
    for language in LANGUAGES:
        for _ in range(3):
            cache.backend.request("GET", path, headers(language))

    first = {}
    for language, name in LANGUAGES.items():
        first[language] = fetch(language)
        response = first[language]
        assert response.status == 200 and x_cache(response) == "MISS", f"{language}: {describe(response)}"
        assert response.headers["Content-Language"] == language, describe(response)
        assert name in response.body.decode(), describe(response)
    assert first["en"].headers["ETag"] != first["fr"].headers["ETag"]

    for language in LANGUAGES:
        again = fetch(language)
        assert_hit(again, cache, f"{path} ({language})")
        assert again.headers["Content-Language"] == language and again.body == first[language].body

    # Stale: Varnish revalidates each variant with its own tag; the origin says 304 and the
    # stored body, in its language, is served again.
    time.sleep(STALE)
    for language in LANGUAGES:
        refreshed = fetch(language)
        assert refreshed.headers.get("X-Backend-304") == "true", f"{language}: {describe(refreshed)}"
        assert refreshed.headers["Content-Language"] == language and refreshed.body == first[language].body
