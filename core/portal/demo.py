"""Bureau apps add their demo data to `seed_demo` without core importing them: an app registers a seeder
in its AppConfig.ready(); seed_demo calls every seeder after the regions, users, households and standards
exist. A seeder must be idempotent (running seed_demo twice changes nothing)."""

from __future__ import annotations

import contextlib
import datetime
import zoneinfo
from collections.abc import Callable, Iterator

# The zone of the demo district (settings.TIME_ZONE); a demo day's events happen in its office hours.
DEMO_ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")

_SEEDERS: list[tuple[int, str, Callable]] = []


def register_demo_seeder(name: str, seeder: Callable, order: int = 100) -> None:
    """`seeder(*, stdout, rng_seed)` — idempotent; called inside seed_demo's transaction."""
    if all(existing != name for _, existing, _ in _SEEDERS):
        _SEEDERS.append((order, name, seeder))
        _SEEDERS.sort(key=lambda item: (item[0], item[1]))


def demo_seeders() -> list[tuple[str, Callable]]:
    return [(name, seeder) for _, name, seeder in _SEEDERS]


@contextlib.contextmanager
def demo_today(day: datetime.date, hour: int = 10) -> Iterator[None]:
    """Demo data only: inside the block "now" is `day` at `hour`:00 Asia/Shanghai (the project's zone)
    plus the real time elapsed since the block began, so a demo case can be entered, visited, posted
    and decided through the services on the days it is said to have happened — and every created_at,
    auto_now field, log time, accepted_on, due date and notice date the services write agrees, in the
    order the steps were taken. `django.utils.timezone.now` is patched (as tests/conftest.py's `clock`
    does); `localdate()`, `localtime()` and auto_now fields read through it. Nests; restored on exit."""
    from django.utils import timezone

    previous = timezone.now
    began = previous()
    base = datetime.datetime.combine(day, datetime.time(hour), tzinfo=DEMO_ZONE)

    def now() -> datetime.datetime:
        return base + (previous() - began)

    timezone.now = now
    try:
        yield
    finally:
        timezone.now = previous
