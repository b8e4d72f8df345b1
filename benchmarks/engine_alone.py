"""The engine alone: one benefit type's steady-state month recalculated on the bench city, rolled back.

For working on `steady_s` (issue 14 item 1) between full benches: the draft month's lines are deleted first
(untimed, as the bench empties the runs before its clock), then `payment_run_recalculate` is timed — wall,
the Python process's CPU, the PostgreSQL backend's CPU (`/proc/<pid>/stat`) and the time Python's cyclic
garbage collector took — and the transaction is rolled back, so the bench database is unchanged (VACUUM
the line table now and then: each run leaves its lines as dead rows).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/minzheng_bench_city DJANGO_SETTINGS_MODULE=config.settings.local \\
      DJANGO_SECRET_KEY=… DJANGO_FIELD_ENCRYPTION_KEYS=… DJANGO_PII_HASH_KEY=… \\   # run.py's KEYS
      uv run --frozen python benchmarks/engine_alone.py dibao [--profile]

`--profile` adds cProfile's top functions (its overhead doubles the Python time). `--by-street` times the
production path instead, in this one process: `payment_run_start_parts`, every part's
`payment_run_recalculate_part` one after another (what one Celery worker process did before its tasks took
three parts pipelined, each committed on a connection of its own — which this rolled-back transaction
cannot do: `make bench` times that), then `payment_run_finish_parts` — the wall time of each step and of
the slowest parts."""

from __future__ import annotations

import cProfile
import datetime
import gc
import os
import pstats
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from core.benefits import services  # noqa: E402
from core.benefits.models import BenefitType  # noqa: E402

MONTH = datetime.date(2026, 12, 1)


class _RolledBack(Exception):
    pass


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _by_street(benefit_type, figures: dict):
    """The by-street path in this process, step by step (see the module's docstring)."""
    started = time.perf_counter()
    run, parts = services.payment_run_start_parts(benefit_type=benefit_type, month=MONTH)
    figures["start_s"] = round(time.perf_counter() - started, 2)
    part_walls, results = [], []
    for part in parts:
        t = time.perf_counter()
        results.append(services.payment_run_recalculate_part(run_id=run.pk, part=part))
        part_walls.append(time.perf_counter() - t)
    t = time.perf_counter()
    run = services.payment_run_finish_parts(run_id=run.pk, parts=results)
    figures["finish_s"] = round(time.perf_counter() - t, 2)
    figures["parts"] = len(parts)
    figures["parts_s"] = round(sum(part_walls), 1)
    figures["part_s_min_median_max"] = [
        round(min(part_walls), 2),
        round(sorted(part_walls)[len(part_walls) // 2], 2),
        round(max(part_walls), 2),
    ]
    return run


def main() -> None:
    code = sys.argv[1] if len(sys.argv) > 1 else "dibao"
    profile = cProfile.Profile() if "--profile" in sys.argv else None
    by_street = "--by-street" in sys.argv
    benefit_type = BenefitType.objects.get(code=code)
    collected = [0.0, 0]
    started_gc = [0.0]

    def gc_timer(phase, info):
        if phase == "start":
            started_gc[0] = time.perf_counter()
        else:
            collected[0] += time.perf_counter() - started_gc[0]
            collected[1] += 1

    figures = {}
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM benefits_paymentline WHERE run_id IN (SELECT id FROM benefits_paymentrun"
                    " WHERE benefit_type_id = %s AND month = %s AND status = 'draft')",
                    [benefit_type.pk, MONTH],
                )
                cursor.execute("SELECT pg_backend_pid()")
                (backend,) = cursor.fetchone()
            gc.callbacks.append(gc_timer)
            pg0, cpu0, wall0 = (
                _backend_cpu(backend),
                resource.getrusage(resource.RUSAGE_SELF),
                time.perf_counter(),
            )
            if profile:
                profile.enable()
            if by_street:
                run = _by_street(benefit_type, figures)
            else:
                run = services.payment_run_recalculate(benefit_type=benefit_type, month=MONTH)
            if profile:
                profile.disable()
            wall1, cpu1, pg1 = (
                time.perf_counter(),
                resource.getrusage(resource.RUSAGE_SELF),
                _backend_cpu(backend),
            )
            gc.callbacks.remove(gc_timer)
            figures |= {
                "lines": run.lines.count(),
                "wall_s": round(wall1 - wall0, 1),
                "python_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1),
                "postgres_cpu_s": round(pg1 - pg0, 1),
                "gc_s": round(collected[0], 2),
                "gc_collections": collected[1],
            }
            raise _RolledBack
    except _RolledBack:
        pass
    print(code, figures, "load", os.getloadavg())
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
