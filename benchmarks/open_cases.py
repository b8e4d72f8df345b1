"""5,000 open cases in the measured district (issue 14 item 6): what a district's case list, to-do list and
household pages carry in a busy month, for the web bench.

    DATABASE_URL=… DJANGO_SETTINGS_MODULE=config.settings.local uv run python benchmarks/open_cases.py

Set-based and idempotent: one INSERT … SELECT of case headers (`workflow.Case`, the one table the case
list, the to-do list and the dashboard query) numbered BW2026000001 … BW2026005000, skipped when the
number exists — a second run adds nothing. Seeded: the applicants are the district's people ordered by
md5(seed, id), one case per person, in their household's community. Type, status, step and the role
holding it are taken in turn from the distinct open combinations `seed_demo` left in the demo district
(so every bureau's types and steps appear); due dates spread from 20 days ago to 40 days ahead (a third
overdue). The cases have no bureau application row: the pages measured list cases, they do not open them.
Prints how many cases it added and how many open cases the district has."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

CASES = int(os.environ.get("BENCH_OPEN_CASES", "5000"))
DISTRICT = os.environ.get("BENCH_DISTRICT", "220150")
SEED = "issue14-web"
PREFIX = "BW2026"

INSERT = """
WITH combos AS (
    SELECT row_number() OVER (ORDER BY case_type, status, current_step, assignee_role) - 1 AS k,
           case_type, status, current_step, assignee_role
    FROM (SELECT DISTINCT case_type, status, current_step, assignee_role
          FROM workflow_case WHERE is_open AND assignee_role <> '') c
), people AS (
    SELECT row_number() OVER (ORDER BY md5(%(seed)s || p.id::text)) AS n,
           p.id AS person_id, p.name, h.id AS household_id, h.region_id, h.region_code
    FROM registry_person p JOIN registry_household h ON h.id = p.household_id
    WHERE p.region_code LIKE %(district)s AND p.death_date IS NULL
    ORDER BY md5(%(seed)s || p.id::text)
    LIMIT %(cases)s
), actor AS (SELECT id FROM accounts_user ORDER BY is_superuser DESC, id LIMIT 1)
INSERT INTO workflow_case (number, case_type, applicant_name, region_code, status, current_step,
                           assignee_role, is_open, step_started_on, due_date, accepted_on, closed_at,
                           created_at, updated_at, applicant_household_id, applicant_person_id,
                           created_by_id, region_id, updated_by_id)
SELECT %(prefix)s || lpad(people.n::text, 6, '0'), combos.case_type, people.name, people.region_code,
       combos.status, combos.current_step, combos.assignee_role, true,
       current_date - (people.n %% 30)::int, current_date - 20 + (people.n %% 61)::int,
       current_date - (people.n %% 30)::int, NULL,
       now() - make_interval(days => (people.n %% 30)::int), now(),
       people.household_id, people.person_id, actor.id, people.region_id, actor.id
FROM people
JOIN combos ON combos.k = people.n %% (SELECT count(*) FROM combos)
CROSS JOIN actor
ON CONFLICT (number) DO NOTHING
"""


def main() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(INSERT, {"seed": SEED, "district": f"{DISTRICT}%", "cases": CASES, "prefix": PREFIX})
        added = cursor.rowcount
        cursor.execute(
            "SELECT count(*) FROM workflow_case WHERE is_open AND region_code LIKE %s", [f"{DISTRICT}%"]
        )
        (open_cases,) = cursor.fetchone()
    if added:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE workflow_case")
    print(f"open_cases_added = {added}")
    print(f"open_cases_district = {open_cases}")


if __name__ == "__main__":
    main()
