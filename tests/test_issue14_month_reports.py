"""Issue 14 item 7: the rest of the month's work at city scale (benchmarks/bench_month.py, `make bench
BENCH_ARGS=month`).

- generate_city hashes with a keyed HMAC made once (crypto.pii_hasher; its values encrypted by the field's
  own Fernet, as before — a hand-built batch Fernet was tried and left out: hand-made crypto for 10 s of a
  generator's time): the hashes are pii_hash's,
  and the city is the one the former per-value path generated — same seed, same people, same numbers
  (a digest of the decrypted content, computed with the former code, pinned below).
- The municipal statistics workbook reads the year's payment lines once for all its sheets
  (assistance.reports.workbook_spending): the same figures as the per-sheet selectors it replaces
  (spending_figures, tekun_spending_by_mode), the same workbook cell for cell, for the city and a district.
- The workbook and the 张榜名单 read the city in a number of queries that does not grow with it."""

import datetime
import hashlib
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from pypdf import PdfReader

from assistance import reports as assistance_reports
from core.accounts.models import Role, User
from core.benefits.models import BenefitType, Entitlement
from core.benefits.services import payment_run_recalculate
from core.registry.crypto import pii_hash, pii_hasher
from core.registry.idnumbers import check_char
from core.registry.models import Household, Person, Region
from reports.notices import posted_list_pdf
from reports.statistics import build_statistics, write_statistics_workbook

pytestmark = pytest.mark.django_db

TYPES = ["dibao", "tekun_basic", "tekun_care", "disability_living", "disability_care"]
# sha256 of the decrypted content of `generate_city --people 3000` (seed 2026, districts 220150–220159),
# computed with the per-value encryption generate_city had before (commit 093b5e0) and equal after.
CITY_3000_DIGEST = "4c6bf8006b2bfa73050870b25abb1467a3adc8b6355bfe914b4a5066799af7a3"


def _digest() -> str:
    h = hashlib.sha256()
    people = Person.objects.filter(region_code__startswith="22015").order_by("id").select_related("household")
    for p in people:
        fields = (
            p.name,
            p.id_number,
            p.sex,
            p.birth_date,
            p.household.number,
            p.relation,
            p.marital_status,
            p.disability_category,
            p.disability_grade,
            p.self_care,
            p.labour_capacity,
            p.serious_illness,
        )
        h.update("|".join(map(str, fields)).encode())
    for o in Household.objects.filter(region_code__startswith="22015").order_by("id"):
        h.update(
            "|".join(
                map(str, (o.number, o.address, o.area_type, o.phone, o.bank_name, o.bank_account))
            ).encode()
        )
    return h.hexdigest()


def test_pii_hasher_is_pii_hash():
    hasher = pii_hasher()
    for number in ("220150198001010016", "22015019800101001X", "1"):
        assert hasher(number) == pii_hash(number)


def test_generated_city_is_the_one_the_per_value_path_generated():
    call_command("generate_city", people=3000, stdout=io.StringIO())
    assert _digest() == CITY_3000_DIGEST
    people = list(
        Person.objects.filter(region_code__startswith="22015").values_list("id_number", "id_number_hash")
    )
    assert len(people) == 3000
    assert all(
        number[17] == check_char(number[:17]) and digest == pii_hash(number) for number, digest in people
    )


def _city(first_district: int, people: int) -> None:
    call_command(
        "generate_city",
        people=people,
        first_district=first_district,
        districts=1,
        seed=first_district,
        stdout=io.StringIO(),
    )


def _runs(months) -> None:
    for month in months:
        for code in TYPES:
            payment_run_recalculate(benefit_type=BenefitType.objects.get(code=code), month=month)


def _statistics_queries(user, month) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as ctx:
        tables = build_statistics(user, month)
    return len(ctx.captured_queries), tables


def test_statistics_queries_do_not_grow_with_the_city():
    # Given a small city with two months of runs, the whole-city user's statistics counted once …
    months = [datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)]
    _city(62, 300)
    _runs(months)
    admin = User.objects.create_superuser("stats_admin", password="x")
    small, _ = _statistics_queries(admin, months[-1])
    # … then a district ten times its size, with its runs
    _city(63, 3000)
    _runs(months)
    large, tables = _statistics_queries(admin, months[-1])
    # Then the same number of queries, and the figures have grown
    assert large == small
    dibao = next(t for t in tables if t.sheet_name == "城乡低保")
    assert dibao.value("total", "households") > 100


def test_posted_list_queries_do_not_grow_with_the_street():
    month = datetime.date(2026, 12, 1)

    def pdf_queries(code: str) -> tuple[int, int, int]:
        user = User.objects.create_user(f"street{code}", password="x", region=Region.objects.get(code=code))
        user.groups.add(Group.objects.get(name=Role.STREET_REVIEWER))
        with CaptureQueriesContext(connection) as ctx:
            content, _, rows = posted_list_pdf(user)
        return len(ctx.captured_queries), rows, len(PdfReader(io.BytesIO(content)).pages)

    _city(64, 300)
    _city(65, 2000)
    _runs([month])
    small = pdf_queries("220164001000")
    large = pdf_queries("220165001000")
    assert large[0] == small[0]
    assert large[1] > small[1] > 0 and large[2] > small[2]


def _workbook_cells(user, month) -> dict:
    output = io.BytesIO()
    write_statistics_workbook(build_statistics(user, month), output, unit_name="x", month=month)
    book = load_workbook(io.BytesIO(output.getvalue()))
    return {(sheet.title, c.coordinate): c.value for sheet in book for row in sheet.iter_rows() for c in row}


def test_one_pass_spending_equals_the_per_sheet_selectors(monkeypatch):
    # Given a city with three months of runs — one 特困 person with a second, later basic-living entitlement
    # of the other support mode (the latest one's mode counts for both) — and the city's and a district's
    # users
    months = [datetime.date(2026, 9, 1), datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)]
    _city(66, 1500)
    _city(67, 800)
    first = Entitlement.objects.filter(
        benefit_type__code="tekun_basic", region_code__startswith="220166"
    ).first()
    other = "分散供养" if first.params.get("tier") == "集中供养" else "集中供养"
    Entitlement.objects.filter(pk=first.pk).update(end_month=months[0])  # one open entitlement a person
    Entitlement.objects.create(
        benefit_type=first.benefit_type,
        person=first.person,
        household=first.household,
        region_code=first.region_code,
        area_type=first.area_type,
        start_month=months[1],
        status=first.status,
        params={"tier": other},
    )
    _runs(months)
    admin = User.objects.create_superuser("spend_admin", password="x")
    chief = User.objects.create_user(
        "spend_chief", password="x", region=Region.objects.get(code="220166000000")
    )
    for user in (admin, chief):
        for month in (months[-1], months[0], datetime.date(2026, 12, 1)):  # the last: no run of the month
            rows = assistance_reports.workbook_spending(user, month)
            R = assistance_reports
            assert R.spending_of(rows, [R.DIBAO]) == R.spending_figures(user, [R.DIBAO], month)
            codes = [R.DISABILITY_LIVING, R.DISABILITY_CARE]
            assert R.spending_of(rows, codes, by_code=True) == R.spending_figures(
                user, codes, month, by_code=True
            )
            assert R.tekun_spending_of(rows) == R.tekun_spending_by_mode(user, month)
    # And the workbook is the one the per-sheet selectors wrote, cell for cell
    new = _workbook_cells(admin, months[-1])
    monkeypatch.setattr(assistance_reports, "_workbook_spending", lambda ctx: ctx)
    monkeypatch.setattr(
        assistance_reports,
        "spending_of",
        lambda ctx, codes, by_code=False: assistance_reports.spending_figures(
            ctx.user, codes, ctx.month, by_code=by_code
        ),
    )
    monkeypatch.setattr(
        assistance_reports,
        "tekun_spending_of",
        lambda ctx: assistance_reports.tekun_spending_by_mode(ctx.user, ctx.month),
    )
    assert _workbook_cells(admin, months[-1]) == new
    assert any(
        isinstance(v, float | int) and v > 1000 for (sheet, _), v in new.items() if sheet == "城乡低保"
    )
