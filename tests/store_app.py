"""Views using the response store (tests/test_responses.py, tests/conformance/test_r29_store.py)."""

from __future__ import annotations

import time
from collections import Counter

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path
from rest_framework import permissions, viewsets
from rest_framework.routers import SimpleRouter

from django_httpcache import cache_policy, conditional
from django_httpcache.rest_framework import ConditionalMixin
from tests.testapp.api import AUTH, ArticleSerializer, Pages
from tests.testapp.models import Article, Note

RENDERS: Counter[str] = Counter()
STATE: dict[str, object] = {"version": 1, "delay": 0.0}


def use_store(settings, **caches_: dict[str, str]) -> None:
    """Fresh counters, and the store on its own LocMemCache (the ``settings`` fixture)."""
    from django.core.cache import caches

    from tests.testapp.api import SERIALIZED

    RENDERS.clear()
    STATE.update(version=1, delay=0.0)
    SERIALIZED.clear()
    locmem = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "responses"}
    settings.CACHES = {**settings.CACHES, "responses": locmem, **caches_}
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_STORE": {"CACHE": "responses"}}
    caches["responses"].clear()


def _version(request, *args, **kwargs):
    return STATE["version"]


def _page(name: str, text: str) -> HttpResponse:
    RENDERS[name] += 1
    return HttpResponse(text.encode() * 30, content_type="text/plain; charset=utf-8")


@cache_policy("catalog")
@conditional(queryset=Article.objects.all(), store=True)
def article_list(request):
    return _page("list", "|".join(f"{a.title}:{a.featured.name if a.featured else ''}" for a in Article.objects.all()))


@cache_policy("catalog")
@conditional(instance=lambda request, pk: Article.objects.filter(pk=pk).first(), store=True)
def article_detail(request, pk):
    return _page("detail", Article.objects.get(pk=pk).title)


@cache_policy("catalog")
@conditional(etag=_version, store=True)
def slow(request):
    time.sleep(float(STATE["delay"]))  # type: ignore[arg-type]
    return _page("slow", f"version {STATE['version']} ")


@cache_policy("catalog")
@conditional(etag=_version, store=True)
async def async_values(request):
    return _page("async", f"async {STATE['version']} ")


@cache_policy("catalog")
@conditional(etag=_version, store=True)
def sets_cookie(request):
    response = _page("cookie", "cookie ")
    response.set_cookie("flavour", "oatmeal")
    return response


@cache_policy("catalog")
@conditional(etag=_version, store=True)
def touches_session(request):
    request.session["seen"] = True
    return _page("session", "session ")


@cache_policy("catalog")
@conditional(etag=_version, store=True)
def streaming(request):
    RENDERS["streaming"] += 1
    return StreamingHttpResponse(iter([b"a" * 300, b"b"]))


@cache_policy("catalog")
@conditional(etag=_version, store=True)
def own_cache_control(request):
    response = _page("own", "own ")
    response["Cache-Control"] = "public, max-age=5"
    return response


@cache_policy("catalog")
@conditional(queryset=Article.objects.all(), store=True)
def untracked(request):
    return _page("untracked", ",".join(n.text for n in Note.objects.all()) + "notes ")


@cache_policy("catalog")
def body_hash(request):
    """No validators before rendering: the body hash cannot key the store."""
    return _page("body_hash", "plain ")


@conditional(etag=_version)
def by_policy(request):
    """Opted in by its policy (the tests' "stored" policy), not by the decorator."""
    return _page("by_policy", "policy ")


class StoredArticles(ConditionalMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Article.objects.select_related("featured").prefetch_related("tags")
    serializer_class = ArticleSerializer
    pagination_class = Pages
    authentication_classes = AUTH
    permission_classes = [permissions.AllowAny]
    cache_policy = "catalog"
    response_store = True


class PrivateStoredArticles(StoredArticles):
    cache_policy = "user"


router = SimpleRouter()
router.register("articles", StoredArticles, basename="stored-article")
router.register("private-articles", PrivateStoredArticles, basename="private-stored-article")

urlpatterns = [
    path("list/", article_list),
    path("detail/<int:pk>/", article_detail),
    path("slow/", slow),
    path("async/", async_values),
    path("cookie/", sets_cookie),
    path("session/", touches_session),
    path("streaming/", streaming),
    path("own/", own_cache_control),
    path("untracked/", untracked),
    path("body-hash/", body_hash),
    path("by-policy/", by_policy),
    *router.urls,
]
