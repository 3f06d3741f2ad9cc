"""Correct, cheap HTTP caching for Django and Django REST framework."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

__all__ = ["CachePolicy", "Validators", "cache_policy", "conditional"]

if TYPE_CHECKING:
    from .decorators import cache_policy, conditional
    from .policy import CachePolicy
    from .preconditions import Validators

_EXPORTS = {
    "CachePolicy": "policy",
    "Validators": "preconditions",
    "cache_policy": "decorators",
    "conditional": "decorators",
}


def __getattr__(name: str) -> Any:
    # Lazy, so that importing the package does not need configured settings.
    if name in _EXPORTS:
        from importlib import import_module

        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
