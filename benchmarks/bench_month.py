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


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    result = {"statistics": statistics, "posted": posted}[mode](*args)
    print(json.dumps({"mode": mode, **result}))
