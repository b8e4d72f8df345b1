"""The pages issue 14 item 6 names, one request at a time, warm, as the 科长 of district 220150.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/minzheng_bench DJANGO_SETTINGS_MODULE=config.settings.local \
      DJANGO_SECRET_KEY=… DJANGO_FIELD_ENCRYPTION_KEYS=… DJANGO_PII_HASH_KEY=… \\   # run.py's KEYS
      uv run python benchmarks/bench_pages.py [page-label …]

Needs the city of `make bench` (generate_city, bench_kezhang) and, for the case list, the open cases of
`benchmarks/open_cases.py`. Through Django's test client (every middleware, the templates rendered; no
network, no gunicorn): per page `WARMUP` requests untimed, then `BENCH_PAGE_REQUESTS` (30) timed, each
answer checked (status 200 and a text it must contain). "dashboard uncached" empties the cache before
each request (not timed), as after a restart or once the day's panels have expired. Prints one line per
page: p50 / p95 / max in ms. Read-only apart from the test client's session row and the cache."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db.models import Exists, OuterRef  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from core.accounts.models import User  # noqa: E402
from core.benefits.models import Entitlement, PaymentRun  # noqa: E402
from core.registry.models import Household  # noqa: E402
from core.workflow.models import Case  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_PAGE_REQUESTS", "30"))
WARMUP = 3
USERNAME = "bench_kezhang"
DISTRICT = "220150"

# One-character names: common surnames, a rare one, characters of given names (generate_city's tables).
NAME_CHARS = ["王", "李", "张", "刘", "覃", "伟", "芳", "莹", "国", "汤"]


def pages() -> list[tuple[str, list[str], str, bool]]:
    """(label, URLs asked in turn, text each answer contains, uncached)."""
    # A household with several bureaus' data: an entitlement of its own or of a member, and an open case.
    household = (
        Household.objects.filter(
            Exists(Entitlement.objects.filter(household_id=OuterRef("pk"))),
            Exists(Entitlement.objects.filter(person__household_id=OuterRef("pk"))),
            Exists(Case.objects.filter(applicant_household_id=OuterRef("pk"), is_open=True)),
            region_code__startswith=DISTRICT,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    ) or Household.objects.filter(region_code__startswith=DISTRICT).order_by("pk").values_list(
        "pk", flat=True
    )[500]
    # The largest monthly 低保 run (the city's: ~90,000 lines), the district's part shown.
    run = (
        PaymentRun.objects.filter(benefit_type__code="dibao", kind="monthly")
        .order_by("-line_count")
        .values_list("pk", flat=True)
        .first()
    )
    return [
        ("household list", ["/registry/households/"], "家庭档案", False),
        (
            "household list, later pages",
            [f"/registry/households/?page={p}" for p in (2, 50, 400, 1500, 1900)],
            "家庭档案",
            False,
        ),
        (
            "household list, sorted by head",
            ["/registry/households/?sort=head", "/registry/households/?sort=-head&page=300"],
            "家庭档案",
            False,
        ),
        (
            "household list, sorted by members",
            ["/registry/households/?sort=-members", "/registry/households/?sort=members&page=300"],
            "家庭档案",
            False,
        ),
        ("household list, q=王", ["/registry/households/?q=王"], "家庭档案", False),
        ("name search, 1 char", [f"/registry/search/?q={c}" for c in NAME_CHARS], "人员查询", False),
        ("name search, 2 chars", ["/registry/search/?q=王伟", "/registry/search/?q=李芳"], "人员查询", False),
        (
            "disability comparison",
            [f"/assistance/disability/comparison/?list={x}" for x in ("stop", "living", "care")],
            "比对",
            False,
        ),
        ("dashboard", ["/"], "工作台", False),
        ("dashboard uncached", ["/"], "工作台", True),
        ("case list", ["/workflow/cases/"], "案件", False),
        ("run lines", [f"/benefits/runs/{run}/", f"/benefits/runs/{run}/?page=20"], "发放", False),
        ("household page", [f"/registry/households/{household}/"], "家庭", False),
    ]


@override_settings(
    # The templates' {% static %} without a collectstatic manifest (this measures the pages, not whitenoise).
    STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
)
def main() -> None:
    wanted = set(sys.argv[1:])
    client = Client()
    client.force_login(User.objects.get(username=USERNAME))
    for label, urls, text, uncached in pages():
        if wanted and label not in wanted:
            continue
        times = []
        for i in range(WARMUP + REQUESTS):
            url = urls[i % len(urls)]
            if uncached:
                cache.clear()
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200 or text not in response.content.decode():
                raise SystemExit(f"{label}: {url} answered {response.status_code} without {text!r}")
            if i >= WARMUP:
                times.append(elapsed)
        p95 = statistics.quantiles(times, n=100, method="inclusive")[94]
        print(f"{label:32s} p50 {statistics.median(times):7.1f}  p95 {p95:7.1f}  max {max(times):7.1f} ms")


if __name__ == "__main__":
    main()
