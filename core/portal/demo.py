"""Bureau apps add their demo data to `seed_demo` without core importing them: an app registers a seeder
in its AppConfig.ready(); seed_demo calls every seeder after the regions, users, households and standards
exist. A seeder must be idempotent (running seed_demo twice changes nothing)."""

from __future__ import annotations

from collections.abc import Callable

_SEEDERS: list[tuple[int, str, Callable]] = []


def register_demo_seeder(name: str, seeder: Callable, order: int = 100) -> None:
    """`seeder(*, stdout, rng_seed)` — idempotent; called inside seed_demo's transaction."""
    if all(existing != name for _, existing, _ in _SEEDERS):
        _SEEDERS.append((order, name, seeder))
        _SEEDERS.sort(key=lambda item: (item[0], item[1]))


def demo_seeders() -> list[tuple[str, Callable]]:
    return [(name, seeder) for _, name, seeder in _SEEDERS]
