"""Small views for the tests. ``CALLS`` counts view-body runs, to prove short circuits."""

from __future__ import annotations

import datetime
from collections import Counter
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseForbidden, StreamingHttpResponse
from django.views import View

from django_httpcache import cache_policy, conditional

CALLS: Counter[str] = Counter()
# A tiny in-memory "resource": tests set it, validator callables read it.
STATE: dict[str, object] = {}
MODIFIED = datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)


def reset() -> None:
    CALLS.clear()
    STATE.clear()
    STATE.update(version=1, modified=MODIFIED, exists=True, status=200, body="hello")


reset()


def get_version(request, *args, **kwargs):
    return STATE["version"] if STATE["exists"] else None


def get_modified(request, *args, **kwargs):
    return STATE["modified"] if STATE["exists"] else None


async def aget_version(request, *args, **kwargs):
    return get_version(request)


async def aget_modified(request, *args, **kwargs):
    return get_modified(request)


def _body(name: str) -> HttpResponse:
    CALLS[name] += 1
    response = HttpResponse(str(STATE["body"]), status=int(STATE["status"]))  # type: ignore[call-overload]
    if STATE.get("cookie"):
        response.set_cookie("flavour", "oatmeal")
    if STATE.get("cache_control"):
        response["Cache-Control"] = STATE["cache_control"]
    return response


def write(name: str, request) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        if not STATE["exists"]:
            CALLS[name] += 1
            return HttpResponse("gone", status=404)
        return _body(name)
    CALLS[name] += 1
    if request.method in ("PUT", "PATCH"):
        STATE["version"] = int(STATE["version"]) + 1  # type: ignore[call-overload]
        STATE["modified"] = MODIFIED + datetime.timedelta(days=int(STATE["version"]))  # type: ignore[call-overload]
        return HttpResponse("updated")
    if request.method == "DELETE":
        STATE["exists"] = False
        return HttpResponse(status=204)
    STATE["exists"] = True
    return HttpResponse("created")


# -- cache_policy ----------------------------------------------------------------


@cache_policy("catalog")
def catalog(request):
    return _body("catalog")


@cache_policy("catalog")
async def async_catalog(request):
    return _body("async_catalog")


@cache_policy(public=True, max_age=120)
def inline(request):
    return _body("inline")


@cache_policy("user")
def user_page(request):
    response = _body("user_page")
    response.content = f"hello {request.user}".encode()
    return response


@cache_policy("shared-anyway")
def shared_anyway(request):
    return _body("shared_anyway")


@cache_policy("localized")
def localized(request):
    return _body("localized")


@cache_policy("static")
def static(request):
    return _body("static")


@cache_policy("sensitive")
def sensitive(request):
    return _body("sensitive")


@cache_policy("no-such-policy")
def unknown_policy(request):
    return _body("unknown_policy")


# -- conditional -------------------------------------------------------------------


@cache_policy("catalog")
@conditional(etag=get_version, last_modified=get_modified)
def cond(request, *args, **kwargs):
    return write("cond", request)


@cache_policy("catalog")
@conditional(etag=get_version, last_modified=get_modified, write_validators=True)
def cond_representation(request, *args, **kwargs):
    """Answers a write with the stored representation, and says so (R16)."""
    response = write("cond_representation", request)
    if request.method in ("PUT", "PATCH"):
        response.content = str(STATE["body"]).encode()
    return response


@conditional(etag=get_version, last_modified=get_modified)
@cache_policy("catalog")
def cond_outer(request):
    return write("cond_outer", request)


@cache_policy("catalog")
@conditional(etag=aget_version, last_modified=aget_modified)
async def async_cond(request, *args, **kwargs):
    return write("async_cond", request)


@cache_policy("catalog")
@conditional(etag=get_version, last_modified=get_modified)
async def async_cond_sync_callables(request):
    return write("async_cond_sync_callables", request)


@cache_policy("catalog")
@conditional(etag=aget_version)
def sync_cond_async_callable(request):
    return write("sync_cond_async_callable", request)


@conditional(etag=get_version)
def etag_only(request):
    return write("etag_only", request)


@conditional(last_modified=get_modified)
def modified_only(request):
    return write("modified_only", request)


@conditional(etag=get_version, require_if_match=True)
def require_if_match(request):
    return write("require_if_match", request)


@cache_policy("user")
@conditional(etag=get_version)
def private_cond(request):
    return write("private_cond", request)


def allowed_only(view):
    """A permission decorator, placed above @conditional as it must be (R01)."""
    from asgiref.sync import iscoroutinefunction

    if iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapper(request, *args, **kwargs):
            if not STATE.get("allowed", True):
                return HttpResponseForbidden("no")
            return await view(request, *args, **kwargs)

        return async_wrapper

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not STATE.get("allowed", True):
            return HttpResponseForbidden("no")
        return view(request, *args, **kwargs)

    return wrapper


def version_if_allowed(request):
    if not STATE.get("allowed", True):
        raise PermissionDenied
    return get_version(request)


@allowed_only
@cache_policy("catalog")
@conditional(etag=get_version)
def guarded(request):
    return write("guarded", request)


@cache_policy("catalog")
@conditional(etag=version_if_allowed)
def guarded_in_callable(request):
    return write("guarded_in_callable", request)


@allowed_only
@cache_policy("catalog")
@conditional(etag=get_version, last_modified=get_modified)
def conformance_sync(request):
    return write("conformance_sync", request)


@allowed_only
@cache_policy("catalog")
@conditional(etag=aget_version, last_modified=aget_modified)
async def conformance_async(request):
    return write("conformance_async", request)


class ProductView(View):
    @cache_policy("catalog")
    @conditional(etag=get_version, last_modified=get_modified)
    def get(self, request, pk):
        return write("ProductView.get", request)

    @conditional(etag=get_version)
    def put(self, request, pk):
        return write("ProductView.put", request)


class AsyncProductView(View):
    @cache_policy("catalog")
    @conditional(etag=aget_version)
    async def get(self, request, pk):
        return write("AsyncProductView.get", request)


# -- middleware --------------------------------------------------------------------


def plain(request):
    return _body("plain")


async def async_plain(request):
    return _body("async_plain")


def streaming(request):
    CALLS["streaming"] += 1
    return StreamingHttpResponse(iter([b"a", b"b"]))


def view_etag(request):
    response = _body("view_etag")
    response["ETag"] = '"from-view"'
    return response


def rule_by_view(request):
    return _body("rule_by_view")


def rule_by_name(request):
    return _body("rule_by_name")


def rule_static(request):
    return _body("rule_static")


def big(request):
    CALLS["big"] += 1
    return HttpResponse("x" * 5000, content_type="text/plain")


def touches_session(request):
    request.session["seen"] = True
    return _body("touches_session")
