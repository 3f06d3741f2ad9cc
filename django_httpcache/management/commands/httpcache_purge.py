"""``manage.py httpcache_purge``: purge surrogate keys or URLs from the configured CDN, now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_httpcache.cdn import cdn_settings, change_keys, object_key
from django_httpcache.cdn.backends import PurgeError
from django_httpcache.cdn.purge import purge_now
from django_httpcache.versions.registry import concrete, is_tracked, label, model_of, tracked_models


def _model_label(value: str) -> str:
    try:
        model = concrete(model_of(value))
    except (LookupError, ValueError) as exc:
        raise CommandError(f"{value!r} is not a model (use app_label.Model): {exc}") from exc
    if not is_tracked(model):
        raise CommandError(f"{value!r} is not tracked, so no response carries its key.")
    return label(model)


class Command(BaseCommand):
    help = (
        "Purge from the CDN (HTTPCACHE['CDN']): every response built from a model, one object's, "
        "a raw key, a URL, or everything the app tagged."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", action="append", default=[], help="app_label.Model (repeatable)")
        parser.add_argument("--object", action="append", default=[], help="app_label.Model:pk (repeatable)")
        parser.add_argument("--key", action="append", default=[], help="a surrogate key as sent (repeatable)")
        parser.add_argument("--url", action="append", default=[], help="a URL or path (repeatable)")
        parser.add_argument("--all", action="store_true", help="every tracked model's key: all tagged responses")

    def handle(
        self, *args: Any, model: list[str], object: list[str], key: list[str], url: list[str], all: bool, **options: Any
    ) -> None:
        found = cdn_settings()
        if found is None:
            raise CommandError("HTTPCACHE['CDN'] has no (valid) BACKEND; see manage.py check.")
        keys = list(key)
        for value in model:  # everything built from it: its model key and every row's
            keys += change_keys(_model_label(value), None, found.prefix)
        for value in object:
            name, sep, pk = value.rpartition(":")
            if not sep or not pk:
                raise CommandError(f"--object {value!r}: use app_label.Model:pk.")
            keys.append(object_key(_model_label(name), pk, found.prefix))
        if all:
            for tracked in tracked_models():
                keys += change_keys(label(tracked), None, found.prefix)
        if not keys and not url:
            raise CommandError("Nothing to purge: give --model, --object, --key, --url or --all.")
        try:
            if keys:
                purge_now(keys, found.backend)
                self.stdout.write(
                    f"Purged {len(set(keys))} keys from {found.backend.name}: {' '.join(sorted(set(keys)))}"
                )
            if url:
                found.backend.purge_urls(url)
                self.stdout.write(f"Purged {len(url)} URLs from {found.backend.name}.")
        except NotImplementedError as exc:
            raise CommandError(str(exc)) from exc
        except PurgeError as exc:
            raise CommandError(f"Purge failed: {exc}") from exc
