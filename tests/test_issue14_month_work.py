"""Issue 14 items 5 and 7: the month's other work at city scale.

- The 低保 bases frozen for bulk-loaded entitlements (generate_city, the data migration): on PostgreSQL one
  UPDATE computes them in the database; it must store exactly what the Python path stores, 单人保,
  members who died, ended and later-starting entitlements, every kind of income included.
- The payment roster reads its lines without JIT (the reader's transaction) and in a number of queries
  that does not grow with the lines."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection

from assistance import bases
from core.benefits.models import Entitlement
from core.registry.models import IncomeRecord, Person

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the set-based freeze is PostgreSQL's"
)

MONTH = datetime.date(2026, 11, 1)


def _dibao():
    return Entitlement.objects.filter(benefit_type__code="dibao", region_code__startswith="220161")


def _strip_bases() -> None:
    for pk, params in _dibao().values_list("pk", "params"):
        params = {k: v for k, v in (params or {}).items() if k != bases.BASES_KEY}
        Entitlement.objects.filter(pk=pk).update(params=params)


def _stored() -> dict[int, dict]:
    # Through JSON text both ways: jsonb's own key order and number forms, as the calculator reads them.
    return {pk: json.loads(json.dumps(params)) for pk, params in _dibao().values_list("pk", "params")}


@postgresql_only
def test_sql_freeze_stores_the_bases_the_python_freeze_stores():
    # Given a small generated city (its 低保 bases frozen by generate_city) with more variety than the
    # generator makes: 单人保 units, members who died before or after the day the facts are read, an
    # entitlement ended before that day and one starting after it, a household with no living member.
    call_command("generate_city", people=2000, first_district=61, districts=1, seed=61, stdout=io.StringIO())
    rows = list(_dibao().order_by("pk").values("pk", "household_id", "params"))
    assert len(rows) > 60
    generated = _stored()
    assert all(p[bases.BASES_KEY][0]["label"] == bases.LABEL_APPROVAL for p in generated.values())
    members = {}
    for pid, hid in Person.objects.filter(household_id__in=[r["household_id"] for r in rows]).values_list(
        "id", "household_id"
    ):
        members.setdefault(hid, []).append(pid)
    multi = [r for r in rows if len(members.get(r["household_id"], [])) >= 2]
    for row in multi[:15]:  # 单人保: one member, or all but one
        ids = members[row["household_id"]]
        covered = ids[:1] if row["pk"] % 2 else ids[1:]
        Entitlement.objects.filter(pk=row["pk"]).update(
            params={**row["params"], "covered_person_ids": [str(i) for i in covered]}
        )
    for row in multi[15:30]:  # a member died in October (before the day) or in December (after it)
        died = datetime.date(2026, 10, 5) if row["pk"] % 2 else datetime.date(2026, 12, 5)
        Person.objects.filter(pk=members[row["household_id"]][-1]).update(death_date=died)
    for row in multi[30:34]:  # a household whose members all died
        Person.objects.filter(household_id=row["household_id"]).update(death_date=datetime.date(2026, 1, 1))
    Entitlement.objects.filter(pk=multi[40]["pk"]).update(end_month=datetime.date(2026, 3, 1))
    Entitlement.objects.filter(pk=multi[41]["pk"]).update(start_month=datetime.date(2027, 1, 1))
    # Income records in force on different days: ended in June, starting in 2027, for the 单人保 person.
    IncomeRecord.objects.filter(household_id=multi[42]["household_id"]).update(
        period_end=datetime.date(2026, 6, 30)
    )
    IncomeRecord.objects.filter(household_id=multi[43]["household_id"]).update(
        period_start=datetime.date(2027, 1, 1)
    )
    assert IncomeRecord.objects.filter(household_id__in=[r["household_id"] for r in multi[:15]]).exists()
    # Every treatment of income met: an excluded and a deducted kind, for the household and for a person
    # (among them the 单人保 units), besides the generator's wages and pensions.
    from assistance import rules

    extra = []
    for i, row in enumerate(multi[:12] + multi[15:20]):
        person = members[row["household_id"]][i % 2]
        for kind, amount in ((rules._EXCLUDED_KINDS[0], "123.45"), (rules._DEDUCTED_KINDS[0], "67.89")):
            extra.append(
                IncomeRecord(
                    household_id=row["household_id"],
                    person_id=person if i % 3 else None,
                    kind=kind,
                    monthly_amount=amount,
                    period_start=datetime.date(2026, 1, 1),
                )
            )
    IncomeRecord.objects.bulk_create(extra)

    # When the bases are frozen in SQL, then again in Python on the same facts
    _strip_bases()
    frozen_sql = bases._freeze_missing_sql(Entitlement, _dibao(), MONTH, label=bases.LABEL_APPROVAL)
    by_sql = _stored()
    _strip_bases()
    frozen_python = bases._freeze_missing_python(
        Entitlement, _dibao(), MONTH, label=bases.LABEL_APPROVAL, chunk=97
    )
    by_python = _stored()

    # Then both froze every entitlement, with exactly the same params
    assert frozen_sql == frozen_python == len(rows)
    assert by_sql == by_python
    singles = [p for p in by_sql.values() if p[bases.BASES_KEY][0]["single"]]
    assert len(singles) == 15
    # and what generate_city stored for the untouched ones is what the Python freeze stores
    untouched = {r["pk"] for r in rows} - {r["pk"] for r in multi[:44]}
    assert {pk: generated[pk] for pk in untouched} == {pk: by_python[pk] for pk in untouched}


@postgresql_only
def test_sql_freeze_keeps_a_basis_already_there_and_other_params():
    call_command("generate_city", people=400, first_district=62, districts=1, seed=62, stdout=io.StringIO())
    dibao = Entitlement.objects.filter(benefit_type__code="dibao", region_code__startswith="220162")
    first, second = dibao.order_by("pk")[:2]
    kept = first.params
    Entitlement.objects.filter(pk=second.pk).update(params={"note": "x"})
    assert bases._freeze_missing_sql(Entitlement, dibao, MONTH, label="L") == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.params == kept
    assert second.params["note"] == "x"
    assert second.params[bases.BASES_KEY][0]["label"] == "L"


# --- the roster's lines written as one element each ---------------------------------------------------


def _roster_xml(rows, fast: bool, monkeypatch) -> dict[str, bytes]:
    import io
    import zipfile

    from core.benefits.models import PaymentRun
    from reports import payment_roster

    monkeypatch.setattr(payment_roster, "FAST_LINES", fast)
    data = payment_roster.RosterData(
        run=PaymentRun(month=datetime.date(2026, 12, 1), status=PaymentRun.Status.LOCKED, title="测试发放"),
        title="测试花名册",
        scope_label="全区",
        whole_district=True,
        line_count=len(rows),
        region_names={"220106001000": "街道一", "220106001001": "社区一", "220106002001": "=社区"},
        category_by_area={
            "urban": "最低生活保障（城市）",
            "rural": "最低生活保障（农村）",
            "": "最低生活保障",
        },
        rows=iter(rows),
    )
    output = io.BytesIO()
    payment_roster.write_roster_xlsx(data, output)
    with zipfile.ZipFile(output) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.startswith("docProps")}


def test_roster_lines_written_as_elements_are_byte_for_byte_openpyxls(monkeypatch):
    from decimal import Decimal

    month = datetime.date(2026, 12, 1)

    def line(region, name, bank="吉林银行", account="6217000012345678901", holder="", **kw):
        return (
            region,
            name,
            "220106195001011234",
            kw.get("area", "urban"),
            kw.get("covered", 2),
            Decimal(kw.get("base", "612.30")),
            Decimal("60.50"),
            Decimal("0.00"),
            Decimal(kw.get("amount", "672.80")),
            bank,
            account,
            holder,
            kw.get("line_type", "regular"),
            kw.get("for_month", month),
            kw.get("change", "unchanged"),
            kw.get("facility"),
        )

    rows = [
        line("220106001001", "张三"),
        line("220106001001", " 李四 ", holder="王五"),  # outer blanks: xml:space="preserve"
        line("220106001001", "", bank="", account=""),  # empty cells
        line("220106001001", "#N/A"),  # an error code openpyxl types "e": its own path
        line("220106001001", "=HYPERLINK()", holder="+1"),  # formula-like: text cells, its own path
        line("220106001001", "赵六", account="", facility=3),  # 集中供养 without an account
        line("220106002001", "钱七", base="1234567.89", amount="0.10", area="rural", change="new"),
        line("220106002001", "孙八", line_type="back_pay", for_month=datetime.date(2026, 9, 1)),
        line("220106002001", "周九", covered=0, base="-12.00", amount="-12.00", line_type="recovery"),
    ]
    assert _roster_xml(rows, True, monkeypatch) == _roster_xml(rows, False, monkeypatch)
