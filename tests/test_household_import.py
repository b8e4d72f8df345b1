"""户籍台账导入: the report centre's import job (reports/imports.py over core/registry/imports.py).

All or nothing: a file with any wrong row writes nothing and keeps the error list on the job; a clean file
registers every household and person (history, memberships, 户主, 户编号 from the community's sequence)."""

from __future__ import annotations

import datetime
import io
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from core.registry import imports
from core.registry.crypto import id_number_q
from core.registry.household_kept import mismatches
from core.registry.models import Household, HouseholdSequence, Membership, Person
from reports import services
from reports.models import ReportJob
from reports.registry import ReportResult, register_report, unregister_report
from tests.factories import household_with_members, valid_id_number

HEADER = [c.header for c in imports.COLUMNS]


def xlsx(rows: list[dict], header: list[str] = HEADER) -> bytes:
    """A workbook with `header` and one row per dict (keys: the columns' keys)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    keys = {c.header: c.key for c in imports.COLUMNS}
    for row in rows:
        sheet.append([row.get(keys.get(title, title), None) for title in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def member(household_key, region, name, relation="户主", **extra):
    return {
        "household_key": household_key,
        "region": region.code if region is not None else None,
        "address": "幸福路1号" if region is not None else None,
        "name": name,
        "id_number": extra.pop("id_number", None) or valid_id_number(),
        "relation": relation,
        **extra,
    }


def upload(user, content: bytes, name: str = "台账.xlsx") -> ReportJob:
    return services.report_request(
        report_type="household_import",
        params={},
        files={"file": SimpleUploadedFile(name, content)},
        actor=user,
    )


def rows_of(job: ReportJob) -> list[tuple]:
    with job.file.open("rb") as handle:
        return list(load_workbook(handle).active.iter_rows(values_only=True))


def uploads_left() -> list[str]:
    """The uploaded files still in storage."""
    from django.conf import settings

    root = settings.MEDIA_ROOT / "uploads"
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture(autouse=True)
def _own_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def caseworker(make_user):
    return make_user("社区经办人", region="community11")


@pytest.fixture
def street_worker(make_user):
    return make_user("街道审核员", region="street1")


@pytest.mark.django_db(transaction=True)
def test_a_clean_file_registers_every_household_with_history_and_numbers(caseworker, regions):
    community = regions["community11"]
    head_number = valid_id_number(datetime.date(1970, 5, 6), male=True)
    rows = [
        member(
            "A1",
            community,
            "王大明",
            id_number=head_number,
            phone="13900000001",
            bank_name="农商银行",
            bank_account="6228480000000000001",
            account_holder="王大明",
            marital_status="已婚",
        ),
        member(
            "A1",
            None,
            "李秀英",
            "配偶",
            marital_status="已婚",
            disability_category="肢体残疾",
            disability_grade="二级",
        ),
        member("B2", community, "赵四", address="和平街2号", self_care="半失能"),
        member("A1", None, "王小明", "子女"),  # a household's rows need not be adjacent
    ]
    before = HouseholdSequence.objects.filter(region_code=community.code).first()
    job = upload(caseworker, xlsx(rows))
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE, job.error
    assert job.record_count == 4
    # the ledger's plain-text ID numbers are not kept once imported; its name is
    assert not job.upload and job.upload_name == "台账.xlsx" and uploads_left() == []
    head = Person.objects.get(id_number_q(head_number))
    household = head.household
    assert household.head == head
    assert household.region == community and household.address == "幸福路1号"
    assert household.phone == "13900000001" and household.bank_account == "6228480000000000001"
    assert household.number.startswith(community.code) and len(household.number) == 18
    assert household.living_members == 3 and household.head_name == "王大明"
    spouse = household.members.get(name="李秀英")
    assert (spouse.relation, spouse.disability_grade, spouse.disability_category) == ("spouse", 2, "physical")
    assert spouse.marital_status == "married" and spouse.region_code == community.code
    assert head.birth_date == datetime.date(1970, 5, 6) and head.sex == "M"
    assert Membership.objects.filter(household=household, left_on__isnull=True).count() == 3
    other = Household.objects.get(members__name="赵四")
    assert other.address == "和平街2号" and other.members.get().self_care == "partial"
    # history: who registered each row and why
    assert household.history.get().history_user == caseworker
    assert head.history.get().history_change_reason == imports.CHANGE_REASON
    assert household.history.get().head_id == head.pk
    # numbers drawn from the community's sequence, as a registration draws them
    sequence = HouseholdSequence.objects.get(region_code=community.code)
    assert sequence.last_value == (before.last_value if before else 0) + 2
    assert not mismatches()
    # the result list: each 户序号 with the 户编号 it was given
    result = rows_of(job)
    assert result[0] == ("户序号", "户编号", "社区/村", "户主", "人数", "起始行号")
    assert ("A1", household.number, community.name, "王大明", 3, 2) in result
    assert ("B2", other.number, community.name, "赵四", 1, 4) in result


@pytest.mark.django_db(transaction=True)
def test_any_wrong_row_writes_nothing_and_lists_every_error(caseworker, street_worker, regions):
    community, outside = regions["community11"], regions["community21"]
    registered = household_with_members(community, size=1).head
    registered_number = Person.objects.filter(pk=registered.pk).values_list("id_number", flat=True).get()
    twice = valid_id_number()
    bad_check_digit = twice[:17] + ("0" if twice[17] != "0" else "1")
    rows = [
        member("1", community, "甲"),  # fine
        member("1", None, "乙", "配偶", id_number=bad_check_digit),
        member("2", community, "丙", id_number=twice),
        member("2", None, "丁", "户主", id_number=twice),  # two heads, and the number twice
        member("3", community, "戊", "子女"),  # no head
        member("4", outside, "己"),  # outside a community worker's scope
        member("5", community, "庚", id_number=registered_number),
        member("6", community, "辛", relation="表亲"),
        member("7", community, "壬", id_number=110101199001011234.0),  # a number cell lost its digits
        member("8", community, "癸", birth_date="1990-13-01", id_type="护照", id_number="E1234567", sex="男"),
        member("1", community, "子", "子女", address="别的地址"),
        # a careless date: in the future, typed with slashes
        member("9", community, "丑", id_type="护照", id_number="E0000001", sex="男", birth_date="2099/01/01"),
    ]
    households, people = Household.objects.count(), Person.objects.count()
    job = upload(caseworker, xlsx(rows))
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED
    assert "未导入任何数据" in job.error and "共 12 行" in job.error
    assert job.can_download and not job.can_retry  # the same file would be refused again
    assert not job.upload and uploads_left() == []
    with pytest.raises(ValidationError, match="请改正后重新上传"):
        services.report_retry(job_id=job.pk, actor=caseworker)
    assert (Household.objects.count(), Person.objects.count()) == (households, people)
    errors = rows_of(job)
    assert errors[0] == ("行号", "户序号", "姓名", "错误说明")
    by_row: dict[int, list[str]] = {}
    for row, _, _, message in errors[1:]:
        by_row.setdefault(row, []).append(message)
    assert 2 not in by_row
    assert any("校验" in m or "身份证" in m for m in by_row[3]), by_row[3]
    assert any("一户只能有一名户主" in m for m in by_row[5])
    assert any("与第 4 行重复" in m for m in by_row[5])
    assert any("没有户主" in m for m in by_row[6])
    assert any("不在您的管辖范围内" in m for m in by_row[7])
    assert any(f"在家庭 {registered.household.number} 中" in m for m in by_row[8])
    assert any("与户主关系“表亲”无效" in m for m in by_row[9])
    assert any("数字格式" in m for m in by_row[10])
    assert any("出生日期“1990-13-01”格式无效" in m for m in by_row[11])
    assert any("住址与同户第 2 行不一致" in m for m in by_row[12])
    assert any("出生日期不能晚于今天" in m for m in by_row[13])
    # the street worker above the community may import there, and the same file minus its errors is fine
    clean = [r for r in rows[:1]] + [member("4", outside, "己")]
    job = upload(street_worker, xlsx(clean))
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED  # community21 is street 2's, not street 1's
    assert "不在您的管辖范围内" in rows_of(job)[1][3]
    job = upload(caseworker, xlsx(rows[:1]))
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE and Person.objects.count() == people + 1


@pytest.mark.django_db(transaction=True)
def test_unreadable_files_fail_with_a_reason(caseworker):
    job = upload(caseworker, b"not a workbook at all")
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED and "无法读取该文件" in job.error
    assert not job.can_retry and not job.upload  # refused as a whole: the same file would fail again
    assert "无法读取该文件" in rows_of(job)[1][3]
    job = upload(caseworker, xlsx([], header=["姓名", "证件号码"]))
    job.refresh_from_db()
    assert "缺少必填列：户序号、社区/村区划代码、住址、与户主关系" in job.error
    job = upload(caseworker, xlsx([]))
    job.refresh_from_db()
    assert "没有数据行" in job.error
    with pytest.raises(Exception, match="只能导入 .xlsx"):
        upload(caseworker, xlsx([]), name="台账.xls")


@pytest.mark.django_db
def test_an_upload_left_by_a_cancelled_import_is_deleted_after_the_keep_days(
    client, caseworker, regions, settings
):
    """A cancelled (or failed-as-system-error) import keeps its upload for 重试 — REPORT_UPLOAD_KEEP_DAYS,
    then it goes (beat: reports.purge_old_uploads): the job row stays, says why, and offers no 重试."""
    from django.utils import timezone

    from reports.tasks import purge_old_uploads

    settings.REPORT_UPLOAD_KEEP_DAYS = 7
    content = xlsx([member("1", regions["community11"], "甲")])
    old, recent, retried = (upload(caseworker, content) for _ in range(3))  # queued: not built here
    for job in (old, recent, retried):
        services.report_cancel(job_id=job.pk, actor=caseworker)
    eight_days_ago = timezone.now() - datetime.timedelta(days=8)
    ReportJob.objects.filter(pk__in=[old.pk, retried.pk]).update(finished_at=eight_days_ago)
    services.report_retry(job_id=retried.pk, actor=caseworker)  # queued again: its upload is needed
    assert len(uploads_left()) == 3

    assert purge_old_uploads() == 1
    old.refresh_from_db(), recent.refresh_from_db(), retried.refresh_from_db()
    assert not old.upload and old.upload_name == "台账.xlsx" and old.status == ReportJob.Status.CANCELLED
    assert old.message == services.UPLOAD_PURGED_MESSAGE and old.upload_purged and not old.can_retry
    assert not recent.upload_purged
    client.force_login(caseworker)  # the 报表中心 row says why there is no 重试
    page = client.get(reverse("reports:job_list")).content.decode()
    assert page.count(services.UPLOAD_PURGED_MESSAGE) == 1
    assert recent.upload and recent.can_retry and retried.upload
    assert sorted(uploads_left()) == sorted(
        str(settings.MEDIA_ROOT / j.upload.name) for j in (recent, retried)
    )
    with pytest.raises(ValidationError, match="超过保留期删除"):
        services.report_retry(job_id=old.pk, actor=caseworker)
    assert services.report_uploads_purge() == 0  # nothing more to delete


@pytest.mark.django_db
def test_the_pages_offer_the_template_and_refuse_the_wrong_role(
    client, caseworker, make_user, regions, django_capture_on_commit_callbacks
):
    url = reverse("reports:job_request", kwargs={"code": "household_import"})
    template = reverse("reports:job_template", kwargs={"code": "household_import"})
    reader = make_user("局领导", region="district")
    client.force_login(reader)
    assert client.get(url).status_code == 403
    assert client.get(template).status_code == 403
    client.force_login(caseworker)
    page = client.get(url).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page and "下载导入模板" in page
    response = client.get(template)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    header = [c.value for c in workbook["家庭成员"][1]]
    assert header[:3] == ["户序号*", "社区/村区划代码*", "住址*"]
    codes = [row[0] for row in workbook["区划代码"].iter_rows(min_row=2, values_only=True)]
    assert codes == [regions["community11"].code]  # only the communities in the user's scope
    # the template, filled in, imports as it is
    sheet = workbook["家庭成员"]
    sheet.append(
        ["1", regions["community11"].code, "幸福路9号", None, "钱七", None, valid_id_number(), "户主"]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": SimpleUploadedFile("填好的模板.xlsx", buffer.getvalue())})
    page = client.get(response.url).content.decode()
    assert Person.objects.filter(name="钱七").exists()
    job = ReportJob.objects.get(report_type="household_import")
    assert "导入结果" in page and reverse("reports:job_download", args=[job.pk]) in page
    response = client.post(url, {"file": SimpleUploadedFile("x.csv", b"a,b")})
    assert "只能导入 .xlsx" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_job_cancelled_before_it_finishes_keeps_nothing(caseworker, regions):
    """`ctx.finish` inside the builder's transaction: a cancel committed meanwhile rolls the data back."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer: the cancel waits for the import's transaction")
    community = regions["community11"]

    def builder(ctx):
        from django.db import transaction

        with transaction.atomic():
            household_with_members(community, size=1, number="CANCELLED-1")

            def cancel():  # the requester presses 取消 from another connection
                services.report_cancel(job_id=ctx.job_id, actor=caseworker)
                connections.close_all()

            thread = threading.Thread(target=cancel)
            thread.start()
            thread.join()
            ctx.finish(ReportResult(filename="x.xlsx"))
        return ReportResult(filename="x.xlsx")

    from reports.imports import HouseholdImportForm

    register_report("test_cancel_import", "测试", builder, "registry.add_household", HouseholdImportForm)
    try:
        job = services.report_request(
            report_type="test_cancel_import",
            params={},
            files={"file": SimpleUploadedFile("a.xlsx", b"x")},
            actor=caseworker,
        )
    finally:
        unregister_report("test_cancel_import")
    job.refresh_from_db()
    assert job.status == ReportJob.Status.CANCELLED
    assert not Household.objects.filter(number="CANCELLED-1").exists()


def _import_at_once(caseworker, files: list[bytes]) -> list[ReportJob]:
    """Upload `files` from as many threads, every file checked before any is written."""
    barrier = threading.Barrier(len(files))
    original = imports.write

    def write_together(checked, **kwargs):
        barrier.wait(timeout=30)  # all files checked before any writes
        return original(checked, **kwargs)

    imports.write = write_together
    jobs: list[int] = []

    def run(content):
        try:
            jobs.append(upload(caseworker, content).pk)
        finally:
            connections.close_all()

    try:
        threads = [threading.Thread(target=run, args=(content,)) for content in files]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        imports.write = original
    return list(ReportJob.objects.filter(pk__in=jobs))


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_person_at_once_register_them_once(caseworker, regions):
    """The ID number's unique index decides between two files checked at the same time: one is written,
    the other fails whole (its other household is not written either)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions")
    community = regions["community11"]
    shared = valid_id_number()
    files = [
        xlsx([member("1", community, "共同人", id_number=shared), member("2", community, f"其他{i}")])
        for i in range(2)
    ]
    jobs = _import_at_once(caseworker, files)
    assert sorted(job.status for job in jobs) == [ReportJob.Status.DONE, ReportJob.Status.FAILED]
    failed = next(job for job in jobs if job.status == ReportJob.Status.FAILED)
    assert "已被他人登记" in failed.error
    assert Person.objects.filter(id_number_q(shared)).count() == 1
    assert Person.objects.filter(name__startswith="其他").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_imports_in_one_community_at_once_then_a_registration_draw_different_numbers(caseworker, regions):
    """户编号 never repeats: two imports writing into the same community at the same moment each draw a
    block from the community's sequence (its row locked until commit), and a 家庭登记 afterwards the next."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions")
    from core.registry.services import household_register

    community = regions["community11"]
    files = [xlsx([member(str(h), community, f"户主{i}{h}") for h in range(3)]) for i in range(2)]
    jobs = _import_at_once(caseworker, files)
    assert [job.status for job in jobs] == [ReportJob.Status.DONE] * 2, [job.error for job in jobs]
    by_hand = household_register(
        region=community,
        address="手工登记路1号",
        members=[{"name": "手工户主", "id_number": valid_id_number(), "relation": "head"}],
        actor=caseworker,
    )
    numbers = list(Household.objects.filter(region=community).values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 7 and by_hand.number in numbers
    assert HouseholdSequence.objects.get(region_code=community.code).last_value == 7


def _written(numbers: list[str]) -> dict[str, list]:
    """Every row an import wrote for the households `numbers`, keys replaced by what names them (a
    household by its number, a person by the hash of their ID number), times left out."""
    households = Household.objects.filter(number__in=numbers)
    house = dict(households.values_list("pk", "number"))
    people = Person.objects.filter(household__in=households)
    person = dict(people.values_list("pk", "id_number_hash"))
    skip = {"id", "history_id", "created_at", "updated_at", "history_date"}

    def rows(queryset, *decrypted: str) -> list:
        out = []
        for obj in queryset:
            row = {}
            for f in obj._meta.concrete_fields:
                if f.attname in skip:
                    continue
                value = getattr(obj, f.attname)
                if f.attname == "household_id":
                    value = house.get(value, value)
                elif f.attname in ("head_id", "person_id"):
                    value = person.get(value, value)
                row[f.attname] = value
            out.append(tuple(sorted(row.items(), key=lambda kv: kv[0])))
        return sorted(out, key=repr)

    return {
        "households": rows(households),
        "people": rows(people),
        "memberships": rows(Membership.objects.filter(household__in=households)),
        "household history": rows(Household.history.filter(number__in=numbers)),
        "person history": [
            (house.get(h.household_id), row)
            for h, row in zip(
                Person.history.filter(household_id__in=list(house)).order_by("id_number_hash"),
                rows(Person.history.filter(household_id__in=list(house)).order_by("id_number_hash")),
                strict=True,
            )
        ],
    }


@pytest.mark.django_db
def test_the_copy_path_writes_what_the_orm_path_writes(caseworker, regions):
    """PostgreSQL writes with COPY (keys reserved, values stored as the fields store them); SQLite — make
    run's demo — through bulk_create and simple_history. Both must write the same rows."""
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    from django.db import transaction

    community = regions["community11"]
    rows = [
        member(
            "1",
            community,
            "甲",
            phone="13900000009",
            bank_name="农商银行",
            bank_account="6228480000000000002",
            account_holder="甲",
            marital_status="已婚",
        ),
        member(
            "1",
            None,
            "乙",
            "配偶",
            disability_category="视力残疾",
            disability_grade="一级",
            disability_cert_no="22010619700101001X11",
        ),
        member("2", community, "丙", id_type="护照", id_number="E7654321", sex="女", birth_date="1988-08-08"),
    ]
    written = {}
    for name, writer in (("orm", imports._write_orm), ("copy", imports._write_copy)):
        checked = imports.check(imports.read_rows(io.BytesIO(xlsx(rows))), actor=caseworker)
        assert not checked.errors
        for index, household in enumerate(checked.households):
            household.number = f"IMPORT-TEST-{index}"
        with transaction.atomic():
            writer(checked, actor=caseworker, joined_on=datetime.date(2026, 12, 1))
            written[name] = _written([h.number for h in checked.households])
            assert not mismatches()
            transaction.set_rollback(True)
    assert written["copy"]["people"] and written["copy"]["person history"]
    for table in written["orm"]:
        assert written["copy"][table] == written["orm"][table], table
