"""One payment-roster export, in its own process so its peak memory is its own.

    python benchmarks/bench_roster.py product  RUN_ID USERNAME OUT.xlsx
    python benchmarks/bench_roster.py openpyxl RUN_ID USERNAME OUT.xlsx

`product` times reports.payment_roster (gather with roster_lines, format with write_roster_xlsx — the
query included); `openpyxl` first loads the same rows, formatted as the roster writes them, into a list,
then times only a bare openpyxl write-only workbook writing them (the baseline of DESIGN.md). Prints one
JSON line: seconds, rows, peak RSS in MB (ru_maxrss of this process)."""

from __future__ import annotations

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
from openpyxl import Workbook  # noqa: E402

from core.benefits.models import PaymentRun  # noqa: E402
from reports import payment_roster  # noqa: E402


def main(mode: str, run_id: int, username: str, out: str) -> None:
    user = get_user_model().objects.select_related("region").get(username=username)
    run = PaymentRun.objects.select_related("benefit_type").get(pk=run_id)
    if mode == "product":
        started = time.perf_counter()
        data = payment_roster.roster_lines(user, run)
        with open(out, "wb") as output:
            payment_roster.write_roster_xlsx(data, output)
        seconds = time.perf_counter() - started
        rows = data.line_count
    else:
        data = payment_roster.roster_lines(user, run)
        month = f"{run.month.year}年{run.month.month}月"
        names = data.region_names
        precomputed = [
            [
                names.get(r[0][:9] + "000", ""),
                names.get(r[0], r[0]),
                r[1] or "",
                r[2] or "",
                data.category_by_area.get(r[3] or "", ""),
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                month,
                r[9] or "",
                r[10] or "",
                r[11] or "",
                r[14] or "",
            ]
            for r in data.rows
        ]
        started = time.perf_counter()
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("发放花名册")
        sheet.append(payment_roster.HEADERS)
        for row in precomputed:
            sheet.append(row)
        workbook.save(out)
        seconds = time.perf_counter() - started
        rows = len(precomputed)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"mode": mode, "seconds": seconds, "rows": rows, "peak_mb": peak_mb}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
