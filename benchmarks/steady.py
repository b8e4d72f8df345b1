"""The steady state the recalculation is measured in (issue 14 item 1), built once in the bench database.

Before the measured month (bench_recalc.MONTH, 2026-12) the engine computes and locks twelve months
(2025-12 … 2026-11) of the five 社会救助 types. Then what happens in a bureau between two runs, entered
after those months were locked:

- 2 % of the city's households get an income record backdated 1–3 months (issue 13: the 低保 amount is
  fixed by decision, so these move no amount — the engine must not pay for them);
- a standard raised three months back: 低保 and 特困 basic from 2026-09 (the old standards end 2026-08-31);
- 0.5 % of the city's people die in a locked month (June–October 2026): their own entitlements end with
  the month of death, as `entitlements_stop_for_death` does; a 低保 household's dead member drops out.

Before the months are locked, some variety the engine and the SQL baseline must both handle: 1 % of the
city's 低保 entitlements in a 渐退期 (taper), 1 % covering one member alone (单人保), a fifth of 特困 care
entitlements with their tier from the six self-care items instead of a stored tier.

Everything here is seeded (SEED) and set-based (UPDATEs through unnest, one bulk insert). Idempotent: the
locked 低保 run of the first locked month marks a database already prepared."""

from __future__ import annotations

import datetime
import json
import random
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from assistance import rules
from core.accounts.models import User
from core.benefits.models import BenefitType, Entitlement, PaymentRun, Standard
from core.benefits.services import payment_run_recalculate
from core.benefits.standards import standard_change
from core.registry.models import Household, IncomeRecord, Person

SEED = 14
CITY = "2201"  # generate_city's city: the demo district (220106) is left as seed_demo made it
MONTH = datetime.date(2026, 12, 1)
LOCKED_MONTHS = [datetime.date(2025 + (11 + i) // 12, (11 + i) % 12 + 1, 1) for i in range(12)]
RAISE_FROM = datetime.date(2026, 9, 1)
RAISES = {"dibao": Decimal("50"), "tekun_basic": Decimal("65")}
INCOME_SHARE = 0.02
DEATH_SHARE = 0.005
TAPER_SHARE = 0.01
SINGLE_SHARE = 0.01
SELF_CARE_SHARE = 0.2


def prepared(types: list[BenefitType]) -> bool:
    return PaymentRun.objects.filter(
        benefit_type__code="dibao",
        kind=PaymentRun.Kind.MONTHLY,
        month=LOCKED_MONTHS[0],
        status=PaymentRun.Status.LOCKED,
    ).exists()


def _write_params(params_by_id: dict[int, dict]) -> None:
    if not params_by_id:
        return
    ids = list(params_by_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE benefits_entitlement AS e SET params = v.params::jsonb "
            "FROM unnest(%s::bigint[], %s::text[]) AS v(id, params) WHERE e.id = v.id",
            [ids, [json.dumps(params_by_id[i], ensure_ascii=False) for i in ids]],
        )


def _variety(rng: random.Random) -> dict[str, int]:
    """渐退期, 单人保 and tiers from self-care items on a seeded share of the city's entitlements."""
    dibao = list(
        Entitlement.objects.filter(benefit_type__code="dibao", region_code__startswith=CITY)
        .order_by("id")
        .values_list("id", "params")
    )
    chosen = rng.sample(dibao, round(len(dibao) * (TAPER_SHARE + SINGLE_SHARE)))
    tapers, singles = chosen[: round(len(dibao) * TAPER_SHARE)], chosen[round(len(dibao) * TAPER_SHARE) :]
    updated: dict[int, dict] = {}
    for pk, params in tapers:
        updated[pk] = {
            **params,
            "taper_until": "2027-03-01",
            "taper_amount": f"{rng.randrange(5000, 40000) / 100:.2f}",
        }
    single_n = 0
    for pk, params in singles:
        basis = params["bases"][-1]
        if len(basis["covered"]) < 2:
            continue
        one = basis["covered"][rng.randrange(len(basis["covered"]))]
        members = basis["members"]
        share = (Decimal(basis["counted"]) / members).quantize(Decimal("0.01"))
        single = {
            **basis,
            "covered": [one],
            "members": 1,
            "single": True,
            "counted": f"{share:.2f}",
            "deducted": "0.00",
            "conditions": {k: v for k, v in basis["conditions"].items() if k == str(one)},
        }
        updated[pk] = {**params, "bases": [*params["bases"][:-1], single]}
        single_n += 1
    care = list(
        Entitlement.objects.filter(benefit_type__code="tekun_care", region_code__startswith=CITY)
        .order_by("id")
        .values_list("id", "params")
    )
    for pk, params in rng.sample(care, round(len(care) * SELF_CARE_SHARE)):
        impossible = set(rng.sample(list(rules.SELF_CARE_ITEMS), rng.randrange(0, 7)))
        kept = {k: v for k, v in params.items() if k != "tier"}
        updated[pk] = {**kept, "self_care_items": {k: k not in impossible for k in rules.SELF_CARE_ITEMS}}
    _write_params(updated)
    return {
        "tapers": len(tapers),
        "single_cover": single_n,
        "self_care_tiers": round(len(care) * SELF_CARE_SHARE),
    }


#: When the city "was entered": before the first locked month. The bench builds a year in minutes, so every
#: row generate_city and _variety wrote would otherwise carry a time a few minutes before the first locked
#: run's calc_started_at — inside settings.BENEFITS_RECHECK_MARGIN_SECONDS (600 s), which makes the engine
#: treat the whole city as changed after every locked month, as no bureau's data ever is (its months are
#: calculated a month apart). Rows written after the months are locked (the incomes, the 提标, the deaths)
#: keep their real time: they are what the measured month must re-check.
ENTERED_AT = datetime.datetime(2025, 11, 15, 12, 0, tzinfo=datetime.UTC)
SETTLED_TABLES = (
    "benefits_entitlement",
    "benefits_standard",
    "benefits_parameter",
    "benefits_benefittype",
    "registry_person",
    "registry_household",
)


def _settle() -> None:
    """Date every row of the city (and the types' standards and parameters) back to ENTERED_AT."""
    with connection.cursor() as cursor:
        for table in SETTLED_TABLES:
            # table names from SETTLED_TABLES, a constant
            statement = f"UPDATE {table} SET updated_at = %s WHERE updated_at > %s"  # noqa: S608
            cursor.execute(statement, [ENTERED_AT, ENTERED_AT])


def _lock_months(types: list[BenefitType]) -> None:
    for month in LOCKED_MONTHS:
        for bt in types:
            payment_run_recalculate(benefit_type=bt, month=month)
        PaymentRun.objects.filter(benefit_type__in=types, kind=PaymentRun.Kind.MONTHLY, month=month).update(
            status=PaymentRun.Status.LOCKED, locked_at=timezone.now()
        )


def _incomes(rng: random.Random) -> int:
    households = list(
        Household.objects.filter(region_code__startswith=CITY).order_by("id").values_list("id", "head_id")
    )
    chosen = rng.sample(households, round(len(households) * INCOME_SHARE))
    records = [
        IncomeRecord(
            household_id=hid,
            person_id=head,
            kind="wage",
            monthly_amount=Decimal(rng.randrange(200, 3000, 10)),
            period_start=LOCKED_MONTHS[-rng.randint(1, 3)],
            note="基准测试：锁定后补录的收入变化",
        )
        for hid, head in chosen
    ]
    IncomeRecord.objects.bulk_create(records, batch_size=5000)
    return len(records)


def _raise_standards() -> int:
    """The 提标 as the bureau enters it: the product's standard_change (the old row ends the day before and
    records the day the change starts — what the recalculation re-checks from)."""
    actor = User.objects.filter(is_superuser=True).order_by("pk").first()
    raised = 0
    for code, step in RAISES.items():
        current = list(
            Standard.objects.filter(
                benefit_type__code=code, effective_from__lt=RAISE_FROM, effective_to__isnull=True
            ).select_related("benefit_type")
        )
        for standard in current:
            standard_change(
                benefit_type=standard.benefit_type,
                area_type=standard.area_type,
                tier=standard.tier,
                amount=standard.amount + step,
                unit=standard.unit,
                effective_from=RAISE_FROM,
                source="基准测试：2026年9月起提标（在9—11月批次锁定后录入）",
                actor=actor,
            )
            raised += 1
    return raised


def _deaths(rng: random.Random) -> dict[str, int]:
    living = list(
        Person.objects.filter(region_code__startswith=CITY, death_date__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    dead = rng.sample(living, round(len(living) * DEATH_SHARE))
    first, last = datetime.date(2026, 6, 1), datetime.date(2026, 10, 31)
    dates = [first + datetime.timedelta(days=rng.randrange((last - first).days + 1)) for _ in dead]
    with connection.cursor() as cursor:
        cursor.execute(
            # updated_at as Person.save() would set it: the 低保 calculator re-checks a covered person's
            # months from it (AssistanceCalculator.changed_since).
            "UPDATE registry_person AS p SET death_date = v.d, updated_at = now() "
            "FROM unnest(%s::bigint[], %s::date[]) AS v(id, d) WHERE p.id = v.id",
            [dead, dates],
        )
        # What entitlements_stop_for_death does for each death: the person's own entitlements end with the
        # month of death.
        cursor.execute(
            "UPDATE benefits_entitlement AS e SET end_month = date_trunc('month', v.d)::date, "
            "status = 'ended', end_reason = '享受人死亡', updated_at = now() "
            "FROM unnest(%s::bigint[], %s::date[]) AS v(id, d) "
            "WHERE e.person_id = v.id AND (e.end_month IS NULL OR e.end_month > date_trunc('month', v.d))",
            [dead, dates],
        )
        ended = cursor.rowcount
    return {"deaths": len(dead), "entitlements_ended": ended}


def prepare(types: list[BenefitType]) -> dict:
    """Build the steady state once (see the module's docstring); {} when it was already there."""
    if prepared(types):
        return {}
    rng = random.Random(SEED)
    with transaction.atomic():
        done = _variety(rng)
        _settle()
    _lock_months(types)
    with transaction.atomic():
        done["income_changes"] = _incomes(rng)
        done["standards_raised"] = _raise_standards()
        done |= _deaths(rng)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) benefits_paymentline")
        cursor.execute("ANALYZE benefits_entitlement")
        cursor.execute("ANALYZE registry_person")
    return done
