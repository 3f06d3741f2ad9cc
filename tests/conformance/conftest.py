"""The three surfaces under one interface, so every rule runs against each of them.

A surface serves one resource; the test can change it, remove it, forbid it, and
(where the surface takes writes) send PUT/PATCH/DELETE to it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from django_httpcache.models import ModelStamp
from tests.factories import ArticleFactory, TagFactory
from tests.testapp import views
from tests.testapp.models import Article

PAST = datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)


@dataclass
class Surface:
    name: str
    url: str
    change: Callable[[], None]
    remove: Callable[[], None]
    forbid: Callable[[], None]
    writes: bool = False
    last_modified: bool = False
    is_async: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


def _state_change() -> None:
    views.STATE["version"] = int(views.STATE["version"]) + 1  # type: ignore[call-overload]
    views.STATE["modified"] = views.MODIFIED + datetime.timedelta(days=int(views.STATE["version"]))  # type: ignore[call-overload]
    views.STATE["body"] = f"hello v{views.STATE['version']}"


def _state_set(**values: object) -> Callable[[], None]:
    return lambda: views.STATE.update(values)


def _decorator(name: str, url: str, is_async: bool) -> Surface:
    return Surface(
        name,
        url,
        change=_state_change,
        remove=_state_set(exists=False),
        forbid=_state_set(allowed=False),
        writes=True,
        last_modified=True,
        is_async=is_async,
    )


def _middleware(name: str, url: str, is_async: bool) -> Surface:
    return Surface(
        name,
        url,
        change=_state_change,
        remove=_state_set(status=404),
        forbid=_state_set(status=403),
        is_async=is_async,
    )


def _drf(name: str, detail: bool) -> Surface:
    def setup() -> Article:
        article = ArticleFactory(tags=[TagFactory(name="red")])
        Article._base_manager.update(updated_at=PAST)  # settled: Last-Modified is sent
        ModelStamp.objects.update(changed_at=PAST)
        return article

    holder: dict[str, Article] = {}

    def article() -> Article:
        if "article" not in holder:
            holder["article"] = setup()
        return holder["article"]

    def change() -> None:
        Article.objects.filter(pk=article().pk).update(body="changed")

    def remove() -> None:
        Article.objects.filter(pk=article().pk).delete()

    def forbid() -> None:
        Article._base_manager.filter(pk=article().pk).update(title="secret")  # no version change

    surface = Surface(
        name,
        "",
        change=change,
        remove=remove,
        forbid=forbid,
        writes=detail,
        last_modified=True,
        headers={"accept": "application/json"},
    )
    surface.article = article  # type: ignore[attr-defined]
    return surface


SURFACE_FACTORIES = {
    "decorator": lambda: _decorator("decorator", "/conformance/sync/", False),
    "decorator-async": lambda: _decorator("decorator-async", "/conformance/async/", True),
    "middleware": lambda: _middleware("middleware", "/plain/", False),
    "middleware-async": lambda: _middleware("middleware-async", "/async-plain/", True),
    "drf-detail": lambda: _drf("drf-detail", detail=True),
    "drf-list": lambda: _drf("drf-list", detail=False),
}
ALL = list(SURFACE_FACTORIES)
WRITERS = ["decorator", "decorator-async", "drf-detail"]
WITH_LAST_MODIFIED = ["decorator", "decorator-async", "drf-detail", "drf-list"]


@pytest.fixture
def surface(request, db, settings) -> Surface:
    # The middleware surface needs a policy from the rules: the catalog one, by default.
    settings.HTTPCACHE = {**settings.HTTPCACHE, "DEFAULT_POLICY": "catalog"}
    made = SURFACE_FACTORIES[request.param]()
    if made.name.startswith("drf"):
        article = made.article()  # type: ignore[attr-defined]
        made.url = f"/api/articles/{article.pk}/" if made.name == "drf-detail" else "/api/articles/"
    return made


FORBIDDABLE = ["decorator", "decorator-async", "middleware", "middleware-async", "drf-detail"]
REMOVABLE = FORBIDDABLE


def surfaces(*names: str):
    """Parametrize a test over these surfaces (all by default)."""
    return pytest.mark.parametrize("surface", list(names) or ALL, indirect=True)


@pytest.fixture
def http(client, async_client):
    """``http(surface, method, **headers)``: async surfaces go through the ASGI handler."""
    from asgiref.sync import async_to_sync

    def send(surface: Surface, method: str = "get", data=None, **headers: str):
        merged = {**surface.headers, **{k.replace("_", "-"): v for k, v in headers.items()}}
        kwargs = {"headers": merged}
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        if surface.is_async:
            return async_to_sync(getattr(async_client, method))(surface.url, **kwargs)
        return getattr(client, method)(surface.url, **kwargs)

    return send
