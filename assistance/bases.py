"""The 低保 amount is fixed by a decision (核定依据), DOMAIN.md "社会救助": confirmation, or a dynamic review's
增发/减发/维持 decision. Between decisions the monthly payment follows only

- a standard change (提标, applied to every household from its effective month),
- the dated facts the rule names: a covered member's death (they drop out from the month after), and an
  age that changes a 分类施保 increment (60, 70, 18),

never an income or membership record edited later: such an edit opens a 变化核查 to-do (assistance.checks)
for the caseworker, who reviews the household; the review's decision fixes a new basis.

A decision's basis is stored on the entitlement, in `params["bases"]`, a list ordered by the month each
takes effect. The monthly calculator reads the one in force for the month (no query: the engine already
reads `params` with the entitlement rows), so re-checking a locked month uses the basis in force then.

    {"from": "2026-02-01",                # first month paid on this basis
     "case": 17, "case_number": "DB…",    # the deciding case (approval or review)
     "label": "审批确认",                  # or 复核增发 / 复核减发 / 复核维持 / 系统升级核定
     "counted": "300.00", "excluded": "0.00", "deducted": "0.00",   # monthly income sums at the decision
     "members": 3,                        # persons the income is divided by (the household, or the 单人保 unit)
     "covered": [11, 12, 13],             # the persons covered
     "conditions": {"12": ["physical", 2, false]},   # disability category, grade, serious illness at the decision
     "single": false}                     # 单人保 (参照单人户)

Only the members with a disability grade or a serious illness are listed in `conditions`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.benefits.exceptions import CalculationError

from . import rules

BASES_KEY = "bases"

LABEL_APPROVAL = "审批确认"
LABEL_MIGRATED = "系统升级时按登记情况核定"


@dataclass(frozen=True)
class Basis:
    start: datetime.date
    income: rules.IncomeSums
    members: int
    covered: tuple[int, ...]
    conditions: Mapping[int, tuple[str, int | None, bool]]
    single: bool
    case_id: int | None
    case_number: str
    label: str


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def basis_json(
    *,
    start: datetime.date,
    income: rules.IncomeSums,
    members: int,
    covered: Iterable[rules.MemberFacts],
    single: bool,
    label: str,
    case_id: int | None = None,
    case_number: str = "",
) -> dict[str, Any]:
    covered = list(covered)
    return {
        "from": start.isoformat(),
        "case": case_id,
        "case_number": case_number,
        "label": label,
        # Income sums are kept exact (records hold fen; sums of fen are fen).
        "counted": _money(income.counted),
        "excluded": _money(income.excluded),
        "deducted": _money(income.deducted),
        "members": members,
        "covered": [m.person_id for m in covered],
        "conditions": {
            str(m.person_id): [m.disability_category or "", m.disability_grade, bool(m.serious_illness)]
            for m in covered
            if m.disability_grade is not None or m.serious_illness
        },
        "single": single,
    }


def _parse(entry: Mapping, entitlement_id: int) -> Basis:
    try:
        conditions = {
            int(pid): (str(c[0] or ""), int(c[1]) if c[1] is not None else None, bool(c[2]))
            for pid, c in (entry.get("conditions") or {}).items()
        }
        return Basis(
            start=datetime.date.fromisoformat(str(entry["from"])),
            income=rules.IncomeSums(
                Decimal(str(entry["counted"])),
                Decimal(str(entry["excluded"])),
                Decimal(str(entry["deducted"])),
            ),
            members=int(entry["members"]),
            covered=tuple(int(i) for i in entry["covered"]),
            conditions=conditions,
            single=bool(entry.get("single")),
            case_id=entry.get("case"),
            case_number=str(entry.get("case_number") or ""),
            label=str(entry.get("label") or ""),
        )
    except (KeyError, TypeError, ValueError, IndexError, InvalidOperation) as exc:
        raise CalculationError(f"低保待遇资格 #{entitlement_id} 的金额核定依据（bases）格式不正确。") from exc


def bases_of(row: Mapping) -> list[Basis]:
    """The parsed bases of an entitlement row, oldest first."""
    entries = (row.get("params") or {}).get(BASES_KEY) or []
    if not isinstance(entries, list):
        raise CalculationError(f"低保待遇资格 #{row['id']} 的金额核定依据（bases）格式不正确。")
    return sorted((_parse(e, row["id"]) for e in entries), key=lambda b: b.start)


def basis_in_force(bases: list[Basis], month: datetime.date) -> Basis | None:
    current = None
    for basis in bases:
        if basis.start <= month:
            current = basis
        else:
            break
    return current


def with_basis(params: Mapping, basis: dict[str, Any]) -> list[dict[str, Any]]:
    """The params' bases with `basis` added: it replaces any basis from the same month or later (a second
    decision confirmed in one month supersedes the first)."""
    start = basis["from"]
    kept = [b for b in (params.get(BASES_KEY) or []) if str(b.get("from")) < start]
    return [*kept, basis]


def covered_with_conditions(basis: Basis, persons: Mapping[int, rules.MemberFacts], month: datetime.date):
    """The basis's covered members alive on the first day of `month`, with the disability and illness the
    decision found (not what the registry says now: a change there is a reason to review)."""
    covered = []
    member_facts = rules.MemberFacts
    for person_id in basis.covered:
        member = persons.get(person_id)
        if member is None or not (member.death_date is None or member.death_date > month):
            continue
        category, grade, ill = basis.conditions.get(person_id, ("", None, False))
        # Built positionally: NamedTuple._replace cost a sixth of a city's 低保 recalculation.
        covered.append(
            member_facts(
                member.person_id,
                member.household_id,
                member.name,
                member.birth_date,
                category,
                grade,
                ill,
                member.death_date,
            )
        )
    return covered


def members_by_id(person_ids: Iterable[int]) -> dict[int, rules.MemberFacts]:
    """{person id: MemberFacts} (name, birth and death dates) — one query for any number of persons."""
    from core.registry.models import Person

    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = (
        Person.objects.filter(pk__any_of=ids)
        .order_by()
        .values_list("id", "household_id", "name", "birth_date", "death_date")
    )
    return {
        pid: rules.MemberFacts(pid, hid, name, birth, "", None, False, death)
        for pid, hid, name, birth, death in rows
    }


def bases_from_facts(
    units: Mapping[int, Iterable[int] | None],
    on_date: datetime.date,
    *,
    label: str,
    start: datetime.date | None = None,
    cases: Mapping[int, tuple[int | None, str]] | None = None,
    members: Mapping[int, list[rules.MemberFacts]] | None = None,
) -> dict[int, dict[str, Any]]:
    """{household id: basis} from the facts recorded now, read on `on_date` (incomes in force, members
    alive): the basis a decision taken now fixes. `units` maps each household to the persons a 单人保
    covers, or None for the whole household. Two queries for any number of households (one when the
    caller already read the living `members`)."""
    household_ids = list(units)
    if members is None:
        members = rules.living_members(household_ids, on_date)
    incomes = rules.household_income_facts(household_ids, on_date, members_by_household=members)
    result = {}
    for household_id, only in units.items():
        living = members.get(household_id, [])
        income = incomes[household_id]
        if only is None:
            covered = living
            sums = rules.IncomeSums(income.counted, income.excluded, income.deducted)
            count = income.members
        else:
            wanted = set(only)
            covered = [m for m in living if m.person_id in wanted]
            sums = income.of_persons(m.person_id for m in covered)
            count = len(covered)
        case_id, case_number = (cases or {}).get(household_id, (None, ""))
        result[household_id] = basis_json(
            start=start or on_date,
            income=sums,
            members=count,
            covered=covered,
            single=only is not None,
            label=label,
            case_id=case_id,
            case_number=case_number,
        )
    return result


@dataclass
class Computed:
    """The amount a decision taken now would fix: the basis from today's facts and the 低保 calculator's
    line on it (None: the per-capita income is not below the standard, or nobody is covered)."""

    basis: dict[str, Any]
    result: Any  # core.benefits.calculators.LineResult | None


def compute_on_facts(
    household,
    month: datetime.date,
    *,
    covered: Iterable[int] | None = None,
    label: str,
    case_id: int | None = None,
    case_number: str = "",
    on_date: datetime.date | None = None,
) -> Computed:
    """The registered 低保 calculator run on a basis built from the facts recorded now (read on `on_date`,
    default the first day of `month`) for `month` — exactly what the payment run will compute once the
    basis is stored. Raises the engine's BenefitsError when no standard or parameter is in force.
    `covered`: the persons a 单人保 covers (None or all living members: the whole household)."""
    from core.benefits.calculators import get_calculator
    from core.benefits.models import BenefitType
    from core.benefits.selectors import parameters_in_force, standards_in_force_map

    on_date = on_date or month
    members = rules.living_members([household.pk], on_date)
    living = {m.person_id for m in members[household.pk]}
    only = None
    if covered is not None:
        wanted = set(covered)
        only = sorted(wanted & living) if living - wanted else None
    basis = bases_from_facts(
        {household.pk: only},
        on_date,
        label=label,
        start=month,
        cases={household.pk: (case_id, case_number)},
        members=members,
    )[household.pk]
    benefit_type = BenefitType.objects.get(code="dibao")
    calculator = get_calculator(benefit_type)
    row = {
        "id": 0,
        "household_id": household.pk,
        "person_id": None,
        "area_type": household.area_type,
        "region_code": household.region_code,
        "params": {BASES_KEY: [basis]},
    }
    # The calculator's facts, from the members just read (DibaoCalculator.load_facts reads the same
    # persons by id): names, births and deaths — who counts is decided by compute, as in the run.
    facts = {
        "persons": {m.person_id: m for m in members[household.pk]},
        "parameters": parameters_in_force(rules.DIBAO_AMOUNT_PARAMETERS, month),
    }
    result = calculator.compute(row, facts, standards_in_force_map(benefit_type, month), month)
    if result is not None and result.amount <= 0:
        result = None
    return Computed(basis, result)


def freeze_missing(
    model, entitlements, month: datetime.date, *, label: str = LABEL_MIGRATED, chunk: int = 5000
) -> int:
    """Give every 低保 entitlement of `entitlements` (a queryset of `model`, the historical model in a
    migration) that has no basis one from the facts recorded now, read on `month` (or on its last month
    when it ended earlier, or its first when it starts later), effective from its first month — what a
    decision taken on those facts would have fixed. Used by the data migration of existing entitlements
    and by `generate_city` for its bulk-loaded ones. On PostgreSQL one UPDATE computes every basis in the
    database (`_freeze_missing_sql`); elsewhere three queries and one UPDATE per chunk, in Python. Both
    store the same JSON (tests/test_issue14_month_work.py)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return _freeze_missing_sql(model, entitlements, month, label=label)
    return _freeze_missing_python(model, entitlements, month, label=label, chunk=chunk)


# The basis `bases_from_facts` builds, computed by PostgreSQL for every entitlement at once. Per
# entitlement: the day its facts are read (`month`, moved into its own months), the 单人保 persons
# (params "covered_person_ids", none = the whole household); the covered persons are the household's
# members alive on that day (among the 单人保 persons), the income sums those of the records in force on
# that day (the household's, or the covered persons' own for a 单人保), each to the fen as text; the
# conditions those of the covered persons with a disability grade or a serious illness.
_FREEZE_SQL = """
WITH ent AS (
    SELECT e.id, e.household_id, e.start_month,
        COALESCE(NULLIF(e.params, 'null'::jsonb), '{{}}'::jsonb) AS params,
        LEAST(GREATEST(e.start_month, %(month)s::date), COALESCE(e.end_month, 'infinity'::date))::date
            AS on_date,
        CASE WHEN jsonb_typeof(e.params -> 'covered_person_ids') = 'array'
                AND jsonb_array_length(e.params -> 'covered_person_ids') > 0
            THEN ARRAY(SELECT jsonb_array_elements_text(e.params -> 'covered_person_ids')::bigint)
        END AS only
    FROM {entitlement} e
    WHERE e.id IN ({ids}) AND e.household_id IS NOT NULL
        AND (e.params IS NULL OR NOT e.params ? 'bases' OR e.params -> 'bases' IN
            ('null'::jsonb, '[]'::jsonb, '{{}}'::jsonb, '""'::jsonb, 'false'::jsonb, '0'::jsonb))
),
covered AS (
    SELECT ent.id AS ent_id, p.id AS person_id, p.disability_category, p.disability_grade, p.serious_illness
    FROM ent JOIN {person} p ON p.household_id = ent.household_id
    WHERE (p.death_date IS NULL OR p.death_date > ent.on_date)
        AND (ent.only IS NULL OR p.id = ANY(ent.only))
),
persons AS (
    SELECT ent_id, count(*) AS members,
        jsonb_agg(person_id ORDER BY person_id) AS ids,
        jsonb_object_agg(
            person_id::text,
            jsonb_build_array(COALESCE(disability_category, ''), disability_grade, serious_illness)
        ) FILTER (WHERE disability_grade IS NOT NULL OR serious_illness) AS conditions
    FROM covered GROUP BY ent_id
),
incomes AS (
    SELECT ent.id AS ent_id,
        sum(i.monthly_amount) FILTER (WHERE NOT i.kind = ANY(%(not_counted)s)) AS counted,
        sum(i.monthly_amount) FILTER (WHERE i.kind = ANY(%(excluded)s)) AS excluded,
        sum(i.monthly_amount) FILTER (WHERE i.kind = ANY(%(deducted)s)) AS deducted
    FROM ent JOIN {income} i ON i.household_id = ent.household_id
    WHERE i.period_start <= ent.on_date AND (i.period_end IS NULL OR i.period_end >= ent.on_date)
        AND (ent.only IS NULL
            OR EXISTS (SELECT 1 FROM covered c WHERE c.ent_id = ent.id AND c.person_id = i.person_id))
    GROUP BY ent.id
),
frozen AS (
    SELECT ent.id, ent.params || jsonb_build_object('bases', jsonb_build_array(jsonb_build_object(
        'from', to_char(ent.start_month, 'YYYY-MM-DD'),
        'case', NULL,
        'case_number', '',
        'label', %(label)s::text,
        'counted', COALESCE(incomes.counted, 0)::numeric(16, 2)::text,
        'excluded', COALESCE(incomes.excluded, 0)::numeric(16, 2)::text,
        'deducted', COALESCE(incomes.deducted, 0)::numeric(16, 2)::text,
        'members', COALESCE(persons.members, 0),
        'covered', COALESCE(persons.ids, '[]'::jsonb),
        'conditions', COALESCE(persons.conditions, '{{}}'::jsonb),
        'single', ent.only IS NOT NULL
    ))) AS params
    FROM ent
    LEFT JOIN persons ON persons.ent_id = ent.id
    LEFT JOIN incomes ON incomes.ent_id = ent.id
)
UPDATE {entitlement} AS e SET params = frozen.params, updated_at = %(now)s
FROM frozen WHERE e.id = frozen.id
"""


def _freeze_missing_sql(model, entitlements, month: datetime.date, *, label: str) -> int:
    """`freeze_missing` as one UPDATE on PostgreSQL (generate_city: 90,000 households of a city)."""
    from django.db import connection
    from django.utils import timezone

    from core.registry.models import IncomeRecord, Person

    ids_sql, ids_params = entitlements.order_by().values("pk").query.sql_with_params()
    quote = connection.ops.quote_name
    statement = _FREEZE_SQL.format(
        entitlement=quote(model._meta.db_table),
        person=quote(Person._meta.db_table),
        income=quote(IncomeRecord._meta.db_table),
        ids="%(ids_sql)s",
    )
    # The entitlements' own query is spliced in with its parameters renamed to named ones.
    names = {f"id_param_{i}": value for i, value in enumerate(ids_params)}
    statement = statement.replace("%(ids_sql)s", ids_sql % tuple(f"%({name})s" for name in names))
    with connection.cursor() as cursor:
        # Statistics first: right after a bulk load (generate_city's COPY, in the same transaction) the
        # tables have none, and the planner, taking them for empty, probed the persons and income
        # records with a scan per entitlement — 60 s instead of 1 s at 50,000 people.
        for table in (model._meta.db_table, Person._meta.db_table, IncomeRecord._meta.db_table):
            cursor.execute(f"ANALYZE {quote(table)}")
        cursor.execute(
            statement,
            {
                "month": month,
                "label": label,
                "now": timezone.now(),
                "not_counted": rules._NOT_COUNTED_KINDS,
                "excluded": rules._EXCLUDED_KINDS,
                "deducted": rules._DEDUCTED_KINDS,
                **names,
            },
        )
        return cursor.rowcount


def _freeze_missing_python(
    model, entitlements, month: datetime.date, *, label: str = LABEL_MIGRATED, chunk: int = 5000
) -> int:
    rows = list(
        entitlements.filter(household__isnull=False)
        .order_by("pk")
        .values("pk", "household_id", "start_month", "end_month", "params")
    )
    rows = [r for r in rows if not (r["params"] or {}).get(BASES_KEY)]
    for i in range(0, len(rows), chunk):
        by_date: dict[datetime.date, list[dict]] = {}
        for row in rows[i : i + chunk]:
            on_date = max(row["start_month"], month)
            if row["end_month"] is not None:
                on_date = min(on_date, row["end_month"])
            by_date.setdefault(on_date, []).append(row)
        updated: dict[int, dict] = {}
        for on_date, group in by_date.items():
            units = {}
            for row in group:
                only = (row["params"] or {}).get("covered_person_ids")
                units[row["household_id"]] = [int(p) for p in only] if only else None
            computed = bases_from_facts(units, on_date, label=label)
            for row in group:
                basis = {**computed[row["household_id"]], "from": row["start_month"].isoformat()}
                updated[row["pk"]] = {**(row["params"] or {}), BASES_KEY: [basis]}
        _write_params(model, updated)
    return len(rows)


def _write_params(model, params_by_id: Mapping[int, dict]) -> None:
    """Store new params in one UPDATE, bumping updated_at as a save() would: a later recalculation
    re-checks locked months for the entitlements changed since they were calculated."""
    import json

    from django.db import connection
    from django.utils import timezone

    if not params_by_id:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        ids = list(params_by_id)
        texts = [json.dumps(params_by_id[i], ensure_ascii=False) for i in ids]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS e SET params = v.params::jsonb, updated_at = %s "  # noqa: S608 (a model's table name)
                "FROM unnest(%s::bigint[], %s::text[]) AS v(id, params) WHERE e.id = v.id",
                [now, ids, texts],
            )
        return
    for pk, params in params_by_id.items():
        model.objects.filter(pk=pk).update(params=params, updated_at=now)
