"""What a representation is built from: observed, not declared (R25, R26).

While a conditional view renders a 200, every SQL statement it runs (ORM or raw) is
read for the tables it names (``observing``); the tracked models behind them are
remembered per view, in the process and in the database (``known``), and the versions
of every model in that set go into the validators of later requests, read before the
data. Before a view's first observed render, the versions of every tracked model are
read, so its first 200 gets an exact tag too; a render that reads an untracked model
gets no model validator (the middleware's body hash, exact by construction, may give
one). Declared ``dependencies`` stay the explicit form; both are merged.
"""

from .known import (
    Known,
    everything_known,
    field_name,
    forget,
    known,
    learn,
    merged,
    refresh,
    response_vary,
    shared_known,
)
from .observing import IGNORED_APPS, Observation, Row, connect_observer, install, observing
from .render import RENDER_ATTR, Render, render_of

__all__ = [
    "IGNORED_APPS",
    "RENDER_ATTR",
    "Known",
    "Observation",
    "Render",
    "Row",
    "connect_observer",
    "everything_known",
    "field_name",
    "forget",
    "install",
    "known",
    "learn",
    "merged",
    "observing",
    "refresh",
    "render_of",
    "response_vary",
    "shared_known",
]
