"""The release identity every model-version tag folds in (R14), so that a deploy that
changes templates, serializers or static asset names also changes the tags: a client
never keeps a 304 of the old rendering while the data stayed the same.

``HTTPCACHE['RELEASE']``: a string names the release (a git SHA, a version); ``None``
(the default) derives one from what a deploy changes; ``False`` folds in nothing.
The derived identity is a digest of the staticfiles manifest (when the storage keeps
one), the installed distributions and their versions, and the contents of the
project's own code and templates: the apps outside site-packages, the ``TEMPLATES``
``DIRS`` and the ``ROOT_URLCONF``'s directory. It is computed once per process and
is the same in every process and on every machine that runs the same files (relative
paths and contents only: no ``hash()``, no modification times).
"""

from __future__ import annotations

import hashlib
import sysconfig
from collections.abc import Iterable
from functools import cache
from importlib import import_module
from importlib.metadata import distributions
from pathlib import Path
from typing import Any, cast

from django.apps import apps
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .conf import conf

__all__ = ["derived_release", "installed_roots", "release"]

# Files that hold code or markup a response may be rendered from.
SOURCE_SUFFIXES = frozenset({".py", ".html", ".htm", ".txt", ".xml", ".json", ".jinja", ".jinja2", ".j2", ".svg"})
# Directories that hold no code of the project (caches, other installs, front-end packages).
SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "site-packages", "dist-packages"})
# Settings that change what the derived identity reads.
INPUT_SETTINGS = frozenset({"INSTALLED_APPS", "TEMPLATES", "ROOT_URLCONF", "STORAGES", "STATIC_ROOT"})


def release() -> str:
    """The release part of the variant key, or ``""`` when HTTPCACHE['RELEASE'] is False;
    cached until the setting changes."""
    return str(conf.memo("release", _release))


def _release() -> str:
    value = conf.RELEASE
    if value is False:
        return ""
    return f"release={value if isinstance(value, str) else derived_release()}"


def installed_roots() -> tuple[Path, ...]:
    """Where installed distributions live (site-packages): not the project's code."""
    paths = sysconfig.get_paths()
    return tuple(Path(paths[key]).resolve() for key in ("purelib", "platlib"))


def _own_directories() -> list[tuple[Path, bool]]:
    """``(directory, recursive)`` of the project's own code and templates."""
    installed = installed_roots()
    found: list[tuple[Path, bool]] = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if not any(path.is_relative_to(root) for root in installed):
            found.append((path, True))
    for engine in settings.TEMPLATES:
        dirs = cast(Iterable[str], engine.get("DIRS", ()))
        found += [(Path(d).resolve(), True) for d in dirs]
    urlconf = getattr(settings, "ROOT_URLCONF", None)
    module = import_module(urlconf) if isinstance(urlconf, str) else None
    if module is not None and getattr(module, "__file__", None):
        found.append((Path(module.__file__).resolve().parent, False))  # type: ignore[arg-type]
    return found


def _files(directory: Path, recursive: bool) -> list[Path]:
    candidates = directory.rglob("*") if recursive else directory.glob("*")
    return sorted(
        path
        for path in candidates
        if path.suffix in SOURCE_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") or part in SKIPPED_DIRECTORIES for part in path.relative_to(directory).parts)
    )


def _manifest() -> str:
    """The staticfiles manifest (hashed asset names), when the storage keeps one."""
    try:
        from django.contrib.staticfiles.storage import staticfiles_storage

        reader: Any = getattr(staticfiles_storage, "read_manifest", None)
        return str(reader() or "") if reader is not None else ""
    except Exception:  # staticfiles not configured: no asset names to follow
        return ""


@cache
def derived_release() -> str:
    """A digest of what a deploy changes (see the module docstring); once per process."""
    hasher = hashlib.blake2b(digest_size=12)
    hasher.update(_manifest().encode())
    versions = sorted({f"{d.metadata['Name']}=={d.version}" for d in distributions() if d.metadata["Name"]})
    hasher.update("\n".join(versions).encode())
    seen: set[Path] = set()
    for index, (directory, recursive) in enumerate(_own_directories()):
        for path in _files(directory, recursive):
            if path in seen:
                continue
            seen.add(path)
            # Where the tree is deployed is not part of it: its place in the list is.
            hasher.update(f"\n{index}/{path.relative_to(directory).as_posix()}\n".encode())
            hasher.update(path.read_bytes())
    return hasher.hexdigest()


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting in INPUT_SETTINGS:
        derived_release.cache_clear()
        conf.reset()  # drops the cached release part too
