"""The rest of the month's work (issue 14 item 7), one measurement per process:

    python benchmarks/bench_month.py statistics USERNAME YYYY-MM OUT.xlsx
    python benchmarks/bench_month.py posted USERNAME OUT.pdf

`statistics` runs the report job's builder of the 民政统计月报 (reports.statistics.build_monthly_statistics,
the code path of the `monthly_statistics` report job: every registered section's grouped queries, the
total checks, the workbook written to OUT) and times all of it; it prints the seconds, the number of
sheets, the number of queries and the size of the file.

`posted` times reports.notices.posted_list_pdf — the 保障对象张榜名单 of everything in the user's scope (for
a district's 科长: every community of the district, one section per community) — and counts the pages of
the PDF it returns with pypdf. WeasyPrint is imported and its fonts loaded first, by rendering the list of
one community untimed: a report worker pays that once per process, not per list. Prints seconds, pages,
rows, pages per second and the file size.

`import` writes a 户籍台账 of ROWS rows (households of one to four members — ~2.5 on average — spread over
the communities of the district DISTRICT, ID numbers of an area code the city does not use, so none is
registered yet) and runs the import job's builder on it (reports.imports.build_household_import: the
file read, every row and the file checked, then households, people, memberships and history written and
the result list built) as USERNAME. The writing transaction is rolled back at its end (the builder's
`ctx.finish`), so the bench city is left as it was. Prints the seconds of each phase and their CPU.

    python benchmarks/bench_month.py import USERNAME DISTRICT ROWS

Each prints one JSON line (the last line of its output)."""

from __future__ import annotations

import io
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def _user(username: str):
    return get_user_model().objects.select_related("region").get(username=username)


def statistics(username: str, month: str, out: str) -> dict:
    from reports.registry import BuildContext
    from reports.statistics import build_monthly_statistics

    user = _user(username)
    with open(out, "wb") as output, CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = build_monthly_statistics(
            BuildContext(job_id=0, params={"month": month}, user=user, output=output)
        )
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "sheets": result.record_count,
        "queries": len(queries.captured_queries),
        "bytes": Path(out).stat().st_size,
        "month": month,
    }


def posted(username: str, out: str) -> dict:
    from pypdf import PdfReader

    from reports.notices import communities_in_scope, posted_list_pdf

    user = _user(username)
    communities = communities_in_scope(user)
    if communities:  # warm-up, untimed: WeasyPrint's import, its style sheets and the CJK fonts
        posted_list_pdf(user, communities[0][0])
    started = time.perf_counter()
    cpu = time.process_time()
    content, _, rows = posted_list_pdf(user)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    Path(out).write_bytes(content)
    pages = len(PdfReader(io.BytesIO(content)).pages)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "pages": pages,
        "rows": rows,
        "communities": len(communities),
        "pages_per_s": pages / seconds,
        "bytes": len(content),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _ledger(path: Path, district: str, rows: int) -> tuple[int, int]:
    """A ledger of `rows` rows over the district's communities: (households, rows)."""
    import datetime
    import random

    from openpyxl import Workbook

    from core.registry import imports
    from core.registry.choices import RegionLevel
    from core.registry.idnumbers import make_ric
    from core.registry.models import Region

    communities = list(
        Region.objects.filter(
            code__startswith=district[:6], level=RegionLevel.COMMUNITY, is_active=True
        ).values_list("code", flat=True)
    )
    rng = random.Random(14)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("家庭成员")
    sheet.append([c.header for c in imports.COLUMNS])
    relations = ["户主", "配偶", "子女", "子女"]
    written = households = 0
    while written < rows:
        households += 1
        size = min(rng.choice((1, 2, 2, 3, 3, 4)), rows - written)
        code = communities[households % len(communities)]
        for index in range(size):
            # unique: a day of birth per thousand rows, the thousand told apart by the sequence digits
            birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=written // 1000)
            number = make_ric("650102", birth, written % 1000)
            first = index == 0
            sheet.append(
                [
                    str(households),
                    code if first else None,
                    f"幸福路{households}号" if first else None,
                    None,
                    f"测试{written}",
                    None,
                    number,
                    relations[index],
                    None,
                    None,
                    "汉族",
                    "13900000000" if first else None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    "农商银行" if first else None,
                    f"62284800{households:011d}" if first else None,
                    None,
                ]
            )
            written += 1
    workbook.save(path)
    return households, written


def import_ledger(username: str, district: str, rows: str) -> dict:
    import tempfile

    from django.db import transaction

    from reports.imports import build_household_import
    from reports.registry import BuildContext

    user = _user(username)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.xlsx"
        households, written = _ledger(path, district, int(rows))
        phases: dict[str, float] = {}
        marks = {"start": time.perf_counter(), "cpu": time.process_time()}

        def progress(percent: int, message: str = "") -> None:
            if percent >= 65 and "check" not in phases:  # the builder starts writing
                phases["check"] = time.perf_counter() - marks["start"]
                phases["check_cpu"] = time.process_time() - marks["cpu"]

        def finish(result) -> None:
            transaction.set_rollback(True)  # leave the bench city as it was

        with open(path, "rb") as upload, open(Path(tmp) / "result.xlsx", "wb") as output:
            context = BuildContext(
                job_id=0, params={}, user=user, output=output, progress=progress, upload=upload, finish=finish
            )
            result = build_household_import(context)
        seconds = time.perf_counter() - marks["start"]
        cpu = time.process_time() - marks["cpu"]
        return {
            "rows": written,
            "households": households,
            "imported": result.record_count,
            "bytes": path.stat().st_size,
            "seconds": seconds,
            "cpu": cpu,
            "check_s": phases.get("check"),
            "check_cpu": phases.get("check_cpu"),
            "write_s": seconds - phases.get("check", 0),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    result = {"statistics": statistics, "posted": posted, "import": import_ledger}[mode](*args)
    print(json.dumps({"mode": mode, **result}))
