"""Person search at city scale: by full ID number (selector and page) and by a name fragment (selector).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/minzheng_bench \
    DJANGO_SETTINGS_MODULE=config.settings.local uv run python benchmarks/bench_search.py

Needs the city of `make bench` (benchmarks/run.py: generate_city, the user bench_kezhang, 科长 of district
220150). Uses only what stays the same when ID numbers are encrypted at rest: the ORM to read ID numbers
(never raw SQL on the column), the selector `core.registry.selectors.people_search(user, q)`, and the page
/registry/search/?q=… (URL name registry:search). Read-only apart from the test client's session row.

Prints `name = value` lines (milliseconds), the queries of one ID search and their EXPLAIN ANALYZE."""

from __future__ import annotations

import html
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from core.accounts.models import User  # noqa: E402
from core.registry.models import Person  # noqa: E402
from core.registry.selectors import people_search as search  # noqa: E402  (the person-search selector)

SEED = 7
PERSONS = 300
NAME_SEARCHES = 100
WARMUP = 30
DISTRICT_PREFIX = "2201500"  # district 220150, the first generate_city builds; bench_kezhang's scope
USERNAME = "bench_kezhang"


def ms(seconds: float) -> float:
    return seconds * 1000.0


def p50_p95(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=100, method="inclusive")[94]


def timed(call, inputs) -> list[float]:
    times = []
    for item in inputs:
        started = time.perf_counter()
        call(item)
        times.append(ms(time.perf_counter() - started))
    return times


def is_han(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in text)


def main() -> None:
    rng = random.Random(SEED)

    # 300 persons of the district, read through the ORM (decrypted by the field if the column is ciphertext).
    # Ordered by pk so that the same seed picks the same persons whatever the column holds.
    rows = list(
        Person.objects.filter(region_code__startswith=DISTRICT_PREFIX)
        .order_by("pk")
        .values_list("pk", "id_number", "name")
    )
    picked = rng.sample(rows, PERSONS)
    print(f"persons in district {DISTRICT_PREFIX}*: {len(rows):,}; picked {PERSONS} (seed {SEED})")

    # Name fragments: 2 consecutive Chinese characters of a picked person's name (seeded).
    fragments = []
    for _pk, _id_number, name in picked:
        windows = [name[i : i + 2] for i in range(len(name) - 1) if is_han(name[i : i + 2])]
        if windows:
            fragments.append(rng.choice(windows))
        if len(fragments) == NAME_SEARCHES:
            break
    assert len(fragments) == NAME_SEARCHES, f"only {len(fragments)} names with 2 Chinese characters"

    user = User.objects.select_related("region").get(username=USERNAME)

    # The pages use the manifest static storage (production's): collect once, as run.py's web part does.
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        print("collectstatic (no manifest yet in STATIC_ROOT)")
        call_command("collectstatic", interactive=False, verbosity=0)

    # --- selector, by ID number
    for _pk, id_number, _name in picked[:WARMUP]:
        search(user, id_number)
    results = {}

    def by_id(item):
        results[item[0]] = search(user, item[1])

    id_selector = timed(by_id, picked)
    for pk, _id_number, _name in picked:
        found = [p.pk for p in results[pk].persons]
        assert found == [pk], f"ID search of person {pk} found {found}"
    households_found = sum(len(r.households) for r in results.values())

    # --- the page, by ID number
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(user)
    url = reverse("registry:search")
    responses = {}

    def page(item):
        responses[item[0]] = client.get(url, {"q": item[1]})

    for item in picked[:WARMUP]:
        page(item)
    id_page = timed(page, picked)
    for pk, _id_number, name in picked:
        response = responses[pk]
        assert response.status_code == 200, f"page for person {pk}: HTTP {response.status_code}"
        body = response.content.decode()
        assert html.escape(name) in body, f"page for person {pk}: name {name} not shown"
        assert f"/registry/persons/{pk}/" in body, f"page for person {pk}: no link to the person"
    responses.clear()

    # --- selector, by name fragment
    for fragment in fragments[:WARMUP]:
        search(user, fragment)
    name_results = {}

    def by_name(fragment):
        name_results[fragment] = search(user, fragment)

    name_selector = timed(by_name, fragments)
    name_hits = []
    truncated = 0
    for fragment, result in name_results.items():
        assert result.persons, f"name search {fragment!r} found nobody"
        assert all(fragment in p.name for p in result.persons), f"name search {fragment!r}: a name without it"
        name_hits.append(len(result.persons))
        truncated += result.truncated

    # --- one ID search: its queries and their plans
    pk, id_number, _name = picked[0]
    with CaptureQueriesContext(connection) as ctx:
        search(user, id_number)
    queries = ctx.captured_queries

    values = {}
    values["search_id_selector_p50_ms"], values["search_id_selector_p95_ms"] = p50_p95(id_selector)
    values["search_id_page_p50_ms"], values["search_id_page_p95_ms"] = p50_p95(id_page)
    values["search_name_selector_p50_ms"], values["search_name_selector_p95_ms"] = p50_p95(name_selector)

    print(
        f"ID searches: {PERSONS}, each found exactly its person (households also matched: {households_found}); "
        f"pages: {PERSONS} × 200 with the name and the person's link"
    )
    print(
        f"name searches: {len(name_results)} distinct of {NAME_SEARCHES} fragments, persons found per search "
        f"min {min(name_hits)} / median {statistics.median(name_hits):.0f} / max {max(name_hits)}, "
        f"truncated at 50: {truncated}"
    )
    print(
        f"means (ms): selector by ID {statistics.fmean(id_selector):.2f}, page by ID {statistics.fmean(id_page):.2f}, "
        f"selector by name {statistics.fmean(name_selector):.2f}"
    )
    print()
    print(f"queries of one ID search (person {pk}): {len(queries)}")
    with connection.cursor() as cursor:
        for number, query in enumerate(queries, 1):
            print(f"\n-- query {number} ({query['time']} s as captured)\n{query['sql']}\n")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            print("\n".join(line for (line,) in cursor.fetchall()))
    print()
    for name, value in values.items():
        print(f"{name} = {value:.2f}")
    print(f"search_id_queries = {len(queries)}")


if __name__ == "__main__":
    main()
