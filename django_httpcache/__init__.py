"""Correct, cheap HTTP caching for Django and Django REST framework."""

from __future__ import annotations

from .decorators import cache_policy, conditional
from .policy import CachePolicy
from .preconditions import Validators

__version__ = "0.1.0.dev0"

__all__ = ["CachePolicy", "Validators", "cache_policy", "conditional"]
