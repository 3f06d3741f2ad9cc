"""One observed render, from the decision to the final response."""

from __future__ import annotations

from contextvars import Token

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from .known import Known, learn, response_vary, tracked_labels
from .observing import Observation, Row, start, stop

__all__ = ["RENDER_ATTR", "Render", "render_of"]

RENDER_ATTR = "_httpcache_render"


class Render:
    """The observation of one 2xx: started after the decision, finished with the response.

    The surface finishes it with the response it sees; the middleware, with the final
    response (after SessionMiddleware may have added ``Vary: Cookie``), again.
    """

    __slots__ = ("covered", "observation", "token", "view")
    token: Token[Observation | None] | None

    def __init__(self, request: HttpRequest, view: str, row: Row | None = None, *, observe: bool = True) -> None:
        self.view = view
        self.observation, self.token = start(row) if observe else (Observation(), None)
        self.covered = True
        request.__dict__[RENDER_ATTR] = self

    def stop(self) -> None:
        if self.token is not None:
            stop(self.token)
            self.token = None

    def finish(self, response: HttpResponseBase) -> Known | None:
        """Stop observing and learn: what the view is now known to read and vary on, or
        None when this render read an untracked model (no version covers it)."""
        self.stop()
        labels, untracked = tracked_labels(self.view, self.observation)
        found = learn(self.view, labels, response_vary(response))
        self.covered = self.covered and not untracked
        return found if self.covered else None


def render_of(request: HttpRequest) -> Render | None:
    found: Render | None = request.__dict__.get(RENDER_ATTR)
    return found
