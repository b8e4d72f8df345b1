"""Generate a synthetic prefecture-level city for benchmarks (issue 5): regions, households, people,
memberships, incomes and active entitlements of the 社会救助 benefit types.

Default size: 1,000,000 people in ~400,000 households under ~1,000 communities in 10 districts of city
2201 (district codes 220150…220159 — demo codes, marked is_demo, so the city coexists with the demo
district 220106). Reproducible from --seed. On PostgreSQL the rows go in with COPY (psycopg3) from
temporary files written in one generation pass, so memory stays flat whatever the size; primary keys are
assigned here and the identity sequences moved past them afterwards. SQLite is refused unless the city is
small (bulk_create would take an hour for a million people)."""

from __future__ import annotations

import datetime
import json
import random
import tempfile
import time
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from core.benefits.calculators import calculator_class
from core.benefits.models import BenefitType, Entitlement
from core.registry.choices import RegionLevel
from core.registry.crypto import pii_hasher
from core.registry.idnumbers import check_char
from core.registry.models import (
    Household,
    HouseholdSequence,
    IncomeRecord,
    Membership,
    Person,
    Region,
)

SQLITE_MAX_PEOPLE = 20_000
TODAY = datetime.date(2026, 11, 1)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
    "崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆峰建国志文博东林海龙成"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀燕玲桂丹萍红玉兰英梅琳雪婷慧莹颖洁晶倩璐佳欣悦"
ROADS = (
    "人民大街",
    "解放大路",
    "自由大路",
    "西安大路",
    "南湖大路",
    "亚泰大街",
    "延安大街",
    "普庆路",
    "建设街",
)
BANKS = ("中国农业银行", "中国邮政储蓄银行", "吉林银行", "农村商业银行", "中国建设银行")
DISABILITY_CATEGORIES = ("visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple")
CARE_TIERS = ("全自理", "半护理", "全护理")
CN_DIGITS = "零一二三四五六七八九十"


class CopyFile:
    """Rows of one table written to a temporary file in COPY text format, loaded in one COPY later."""

    BATCH = 5000  # rows held until their encrypted columns are encrypted together

    def __init__(self, model, columns: list[str], encrypted: tuple[str, ...] = ()):
        self.model = model
        self.columns = columns
        self.file = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 — closed in load()
        self.rows = 0
        # Columns given in plain text and stored encrypted — by the field's own encrypt (the cryptography
        # library's Fernet), a batch at a time — so that no plain value reaches the temporary file.
        self.encrypted = [(columns.index(c), model._meta.get_field(c)) for c in encrypted]
        self.pending: list[list[str]] = []

    def add(self, *values) -> None:
        # PostgreSQL COPY text format (generated data has no tabs, newlines or backslashes), inlined: ~25
        # values per person, a million people.
        row = [r"\N" if v is None else "t" if v is True else "f" if v is False else str(v) for v in values]
        if self.encrypted:
            self.pending.append(row)
            if len(self.pending) >= self.BATCH:
                self.flush()
        else:
            self.file.write("\t".join(row))
            self.file.write("\n")
        self.rows += 1

    def flush(self) -> None:
        rows = self.pending
        for index, field in self.encrypted:
            plain = [row[index] for row in rows]
            wanted = [i for i, value in enumerate(plain) if value not in ("", r"\N")]  # blank stays blank
            encrypt = field.encrypt
            for i in wanted:
                rows[i][index] = encrypt(plain[i])
        self.file.write("".join("\t".join(row) + "\n" for row in rows))
        self.pending = []

    def load(self, cursor) -> None:
        from psycopg import sql

        self.flush()
        self.file.seek(0)
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.model._meta.db_table),
            sql.SQL(", ").join(sql.Identifier(c) for c in self.columns),
        )
        with cursor.copy(statement) as copy:
            while block := self.file.read(1 << 20):
                copy.write(block.encode("utf-8"))
        self.file.close()

    def insert(self) -> None:
        """The small-city path for SQLite: the same rows through executemany."""
        self.flush()
        self.file.seek(0)
        table = connection.ops.quote_name(self.model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        convert = {r"\N": None, "t": True, "f": False}
        rows = [[convert.get(v, v) for v in line.rstrip("\n").split("\t")] for line in self.file]
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
        self.file.close()


@dataclass
class Member:
    relation: str
    age: int
    male: bool
    birth: datetime.date = TODAY
    marital: str = "unmarried"
    disability: str = ""
    grade: int | None = None
    illness: bool = False
    self_care: str = "full"
    labour: str = "full"
    person_id: int = 0


class Command(BaseCommand):
    help = "生成城市规模的合成数据（默认100万人、约40万户、约1000个社区），用于性能基准测试"

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=1_000_000, help="人数（默认 1,000,000）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子（相同种子生成相同数据）")
        parser.add_argument("--city", default="2201", help="市级区划代码前4位（默认 2201）")
        parser.add_argument("--first-district", type=int, default=50, help="第一个区县的代码第5-6位")
        parser.add_argument("--districts", type=int, default=10, help="区县数（默认 10）")
        parser.add_argument(
            "--entitlement-rate",
            type=float,
            default=0.15,
            help="在享待遇资格数占人数的比例（默认 0.15，即100万人约15万条）",
        )

    def handle(self, *args, people: int, seed: int, city: str, first_district: int, districts: int, **opts):
        if connection.vendor != "postgresql" and people > SQLITE_MAX_PEOPLE:
            raise CommandError(
                f"城市规模数据须使用 PostgreSQL（设置 DATABASE_URL）；SQLite 仅支持 --people ≤ {SQLITE_MAX_PEOPLE}。"
            )
        if not (len(city) == 4 and city.isdigit()):
            raise CommandError("--city 须为4位数字")
        codes = [f"{city}{first_district + d:02d}" for d in range(districts)]
        if any(int(c[4:]) > 99 for c in codes):
            raise CommandError("区县代码超出范围")
        if "220106" in codes:
            raise CommandError("区县代码与演示区（220106）冲突，请调整 --first-district")
        if Household.objects.filter(region_code__startswith=codes[0]).exists():
            raise CommandError(f"区县 {codes[0]} 已有家庭数据：城市已生成，未重复生成。")
        started = time.perf_counter()
        self.people_target = people
        self.rng = random.Random(seed)
        self.entitlement_rate = opts["entitlement_rate"]
        with transaction.atomic():
            communities = self._regions(city, codes)
            counts = self._people(communities, people)
        elapsed = time.perf_counter() - started
        with connection.cursor() as cursor:
            for model in (Household, Person, Membership, IncomeRecord, Entitlement):
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')
        summary = "，".join(f"{label} {n:,}" for label, n in counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"城市数据已生成：{len(codes)} 个区县、{len(communities):,} 个社区/村，{summary}；"
                f"用时 {elapsed:.1f} 秒（另 ANALYZE {time.perf_counter() - started - elapsed:.1f} 秒）"
            )
        )

    # -- regions ---------------------------------------------------------------------------------------
    def _regions(self, city: str, codes: list[str]) -> list[Region]:
        province, _ = Region.objects.get_or_create(
            code=f"{city[:2]}0000000000", defaults={"name": "吉林省", "level": RegionLevel.PROVINCE}
        )
        city_region, _ = Region.objects.get_or_create(
            code=f"{city}00000000",
            defaults={"name": "长春市", "level": RegionLevel.CITY, "parent": province},
        )
        people_per_community = 1000
        total_communities = max(len(codes), round(self.people_target / people_per_community))
        per_district = max(1, total_communities // len(codes))
        streets_per_district = max(1, min(20, per_district // 10 or 1))
        communities: list[Region] = []
        for d, code in enumerate(codes):
            district = Region.objects.create(
                code=f"{code}000000",
                name=f"示范{self._cn(d + 1)}区",
                level=RegionLevel.DISTRICT,
                parent=city_region,
                is_demo=True,
            )
            per_street = [per_district // streets_per_district] * streets_per_district
            for i in range(per_district % streets_per_district):
                per_street[i] += 1
            for s, n in enumerate(per_street, start=1):
                rural = s > streets_per_district * 0.65  # about a third of the streets are towns (镇)
                area = "rural" if rural else "urban"
                street = Region.objects.create(
                    code=f"{code}{s:03d}000",
                    name=f"{self._cn(s)}{'镇' if rural else '街道'}",
                    level=RegionLevel.STREET,
                    parent=district,
                    area_type=area,
                    is_demo=True,
                )
                communities += Region.objects.bulk_create(
                    Region(
                        code=f"{code}{s:03d}{c:03d}",
                        name=f"{street.name[:-2] if not rural else street.name[:-1]}{self._cn(c)}{'村' if rural else '社区'}",
                        level=RegionLevel.COMMUNITY,
                        parent=street,
                        area_type=area,
                        is_demo=True,
                    )
                    for c in range(1, n + 1)
                )
        for community in communities:
            community.street_name = community.parent.name
        return communities

    @staticmethod
    def _cn(n: int) -> str:
        if n <= 10:
            return CN_DIGITS[n]
        if n < 20:
            return "十" + CN_DIGITS[n - 10]
        if n < 100:
            return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
        return str(n)

    # -- people ----------------------------------------------------------------------------------------
    @staticmethod
    def _first_free_id(model) -> int:
        """Primary keys are assigned here (households and people reference each other); the identity
        sequences are moved past them after the load."""
        return (model.objects.aggregate(last=Max("id"))["last"] or 0) + 1

    def _plan(self) -> list[Member]:
        rng = self.rng
        size = rng.choices((1, 2, 3, 4, 5, 6), weights=(25, 30, 25, 12, 6, 2))[0]
        head_age = rng.choices(
            (rng.randint(22, 44), rng.randint(45, 64), rng.randint(65, 98)), weights=(35, 40, 25)
        )[0]
        head_male = rng.random() < 0.6
        members = [Member("head", head_age, head_male)]
        if size >= 2:
            members.append(Member("spouse", max(20, head_age + rng.randint(-5, 3)), not head_male))
        parents = 0
        for _ in range(size - len(members)):
            if head_age < 60 and parents < 2 and rng.random() < 0.25:
                parents += 1
                members.append(Member("parent", min(102, head_age + rng.randint(22, 32)), rng.random() < 0.4))
            else:
                members.append(Member("child", max(0, head_age - rng.randint(22, 35)), rng.random() < 0.5))
        for m in members:
            m.birth = TODAY - datetime.timedelta(days=m.age * 365 + rng.randint(1, 364) + m.age // 4)
            if m.relation in ("head", "spouse"):
                m.marital = "married" if size >= 2 else rng.choice(("unmarried", "divorced", "widowed"))
            elif m.relation == "parent":
                m.marital = rng.choice(("married", "widowed"))
            else:
                m.marital = "unmarried" if m.age < 25 else rng.choice(("unmarried", "married"))
            # ~6 % disabled (第二次全国残疾人抽样调查: 6.34 %), more among the old.
            if rng.random() < (0.04 if m.age < 60 else 0.12):
                m.disability = rng.choice(DISABILITY_CATEGORIES)
                m.grade = rng.choice((1, 2, 2, 3, 3, 4, 4))
            m.illness = rng.random() < 0.03
            if (m.grade in (1, 2) or m.age >= 85) and rng.random() < 0.5:
                m.self_care = rng.choice(("partial", "none"))
            m.labour = "none" if m.age >= 60 or m.age < 16 or m.grade in (1, 2) else "full"
        return members

    def _people(self, communities: list[Region], people: int) -> dict[str, int]:
        rng = self.rng
        now = timezone.now().isoformat()
        households_expected = int(people / 2.5) + 10
        benefit = {bt.code: bt.pk for bt in BenefitType.objects.filter(code__in=self._entitlement_codes())}
        missing = set(self._entitlement_codes()) - set(benefit)
        if missing:
            raise CommandError(
                f"缺少待遇类型 {sorted(missing)}：请先运行 migrate（assistance 迁移会建立待遇类型）。"
            )
        # Shares of the entitlements (issue 5: dibao household entitlements ~60 %).
        target = int(people * self.entitlement_rate)
        dibao_rate = target * 0.60 / households_expected

        # ID numbers and bank accounts are stored encrypted (CopyFile's encrypted columns, a batch at a time),
        # with the ID number's search hash (crypto.py).
        pii_hash = pii_hasher()
        next_household = self._first_free_id(Household)
        next_person = self._first_free_id(Person)
        first_entitlement = self._first_free_id(Entitlement)
        hh = CopyFile(
            Household,
            [
                "id",
                "number",
                "region_id",
                "region_code",
                "address",
                "area_type",
                "head_id",
                "phone",
                "bank_name",
                "bank_account",
                "account_holder",
                "is_active",
                "created_at",
                "updated_at",
            ],
            encrypted=("bank_account",),
        )
        pp = CopyFile(
            Person,
            [
                "id",
                "name",
                "id_type",
                "id_number",
                "id_number_hash",
                "sex",
                "birth_date",
                "ethnicity",
                "phone",
                "household_id",
                "relation",
                "region_code",
                "marital_status",
                "disability_category",
                "disability_grade",
                "disability_cert_no",
                "serious_illness",
                "self_care",
                "labour_capacity",
                "created_at",
                "updated_at",
            ],
            encrypted=("id_number",),
        )
        ms = CopyFile(Membership, ["person_id", "household_id", "relation", "joined_on", "reason"])
        inc = CopyFile(
            IncomeRecord,
            ["household_id", "person_id", "kind", "monthly_amount", "period_start", "note", "recorded_at"],
        )
        ent = CopyFile(
            Entitlement,
            [
                "benefit_type_id",
                "person_id",
                "household_id",
                "region_code",
                "area_type",
                "start_month",
                "status",
                "end_reason",
                "params",
                "created_at",
                "updated_at",
            ],
        )
        counts = dict.fromkeys(self._entitlement_codes(), 0)

        def grant(
            benefit_code: str, person_id, household_id, region_code: str, area: str, start, tier: str = ""
        ) -> None:
            """One active entitlement row in the columns of `ent` (a tier, where the benefit has tiers, in its
            params), counted per benefit for the summary."""
            params = json.dumps({"tier": tier}, ensure_ascii=False) if tier else "{}"
            ent.add(
                benefit[benefit_code],
                person_id,
                household_id,
                region_code,
                area,
                start,
                "active",
                "",
                params,
                now,
                now,
            )
            counts[benefit_code] += 1

        person_share = {  # of person-level entitlements, per candidate
            "tekun_basic": 0.10,
            "tekun_care": 0.08,
            "disability_living": 0.12,
            "disability_care": 0.10,
        }
        sequence: dict[tuple[str, datetime.date, bool], int] = {}
        per_community: dict[str, int] = {}
        household_id = next_household
        person_id = next_person
        made = 0
        income_start = datetime.date(2026, 1, 1).isoformat()
        joined_floor = datetime.date(2015, 1, 1)
        # Expected candidates, to turn the target counts into probabilities.
        old_single_rate = 0.25 * 0.35 * 0.775  # one-person, head 60+, not already 低保
        tekun_p = min(1.0, target * person_share["tekun_basic"] / (households_expected * old_single_rate))
        disabled_people = people * 0.06
        living_p = min(1.0, target * person_share["disability_living"] / disabled_people)
        care_p = min(1.0, target * person_share["disability_care"] / (disabled_people * 3 / 7))

        while made < people:
            community = communities[(household_id - next_household) % len(communities)]
            code = community.code
            area = community.area_type
            district = code[:6]
            members = self._plan()[: people - made]
            made += len(members)
            per_community[code] = per_community.get(code, 0) + 1
            number = f"{code}{per_community[code]:06d}"
            surname = rng.choice(SURNAMES)
            for m in members:
                m.person_id = person_id
                person_id += 1
            head = members[0]
            if area == "rural":
                address = f"{community.name}{rng.randint(1, 9)}组{rng.randint(1, 150)}号"
            else:
                address = (
                    f"{rng.choice(ROADS)}{rng.randint(1, 3000)}号{rng.randint(1, 6)}单元"
                    f"{rng.randint(1, 18)}{rng.randint(1, 4):02d}室"
                )
            is_dibao = rng.random() < dibao_rate
            hh.add(
                household_id,
                number,
                community.pk,
                code,
                address,
                area,
                head.person_id,
                f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
                rng.choice(BANKS),
                "62" + f"{rng.randrange(10**17):017d}",
                "",
                True,
                now,
                now,
            )
            for m in members:
                given = "".join(
                    rng.choice(GIVEN_MALE if m.male else GIVEN_FEMALE) for _ in range(rng.choice((1, 2, 2)))
                )
                family = surname if m.relation in ("head", "child") else rng.choice(SURNAMES)
                key = (district, m.birth, m.male)
                n = sequence.get(key, 0)
                sequence[key] = n + 1
                if n >= 500:
                    raise CommandError("同一区县同日出生同性别人数超过500，请增加区县数")
                first17 = f"{district}{m.birth:%Y%m%d}{n * 2 + (1 if m.male else 0):03d}"
                id_number = first17 + check_char(first17)
                pp.add(
                    m.person_id,
                    family + given,
                    "ric",
                    id_number,
                    pii_hash(id_number),
                    "M" if m.male else "F",
                    m.birth.isoformat(),
                    "汉族",
                    "",
                    household_id,
                    m.relation,
                    code,
                    m.marital,
                    m.disability,
                    m.grade,
                    f"DC{rng.randrange(10**9):09d}" if m.disability else "",
                    m.illness,
                    m.self_care,
                    m.labour,
                    now,
                    now,
                )
                ms.add(m.person_id, household_id, m.relation, max(m.birth, joined_floor).isoformat(), "")
                self._income(inc, household_id, m, area, is_dibao, income_start, now)
            start = self._start_month()
            if is_dibao:
                grant("dibao", None, household_id, code, area, start)
            elif len(members) == 1 and head.age >= 60 and rng.random() < tekun_p:
                tier = "集中供养" if rng.random() < 0.3 else "分散供养"
                grant("tekun_basic", head.person_id, household_id, code, area, start, tier)
                if rng.random() < 0.8:
                    care = rng.choices(CARE_TIERS, weights=(60, 28, 12))[0]
                    grant("tekun_care", head.person_id, household_id, code, area, start, care)
            for m in members:
                if not m.disability:
                    continue
                if rng.random() < living_p:
                    grant("disability_living", m.person_id, None, code, area, start)
                if m.grade in (1, 2) and rng.random() < care_p:
                    grade = "一级" if m.grade == 1 else "二级"
                    grant("disability_care", m.person_id, None, code, area, start, grade)
            household_id += 1

        files = (hh, pp, ms, inc, ent)
        if connection.vendor == "postgresql":
            from psycopg import sql

            with connection.cursor() as wrapper:
                cursor = wrapper.cursor
                # The rows are generated consistent (every head, household and person id exists);
                # checking ~4 million deferred foreign keys one trigger call at a time would triple the
                # load time. replica mode skips those triggers in this transaction only; constraints
                # other than foreign keys, and every index, stay in force.
                # (Only a superuser may; others load with the checks, at COMMIT, just slower.)
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                skip_fk_triggers = bool(cursor.fetchone()[0])
                if skip_fk_triggers:
                    cursor.execute("SET LOCAL session_replication_role = replica")
                for copy_file in files:
                    copy_file.load(cursor)
                if skip_fk_triggers:
                    cursor.execute("SET LOCAL session_replication_role = DEFAULT")
                for model in (Household, Person, Membership, IncomeRecord, Entitlement):
                    table = model._meta.db_table
                    last = sql.SQL("SELECT MAX(id) FROM {}").format(sql.Identifier(table))
                    cursor.execute(
                        sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'id'), ({}))").format(last), [table]
                    )
        else:
            for copy_file in files:
                copy_file.insert()
        # What each grant's decision would have fixed (the 低保 amount basis): the calculators say.
        for code, pk in benefit.items():
            calculator = calculator_class(code)
            if calculator is not None:
                calculator(BenefitType.objects.get(pk=pk)).prepare_loaded(
                    Entitlement.objects.filter(benefit_type_id=pk, pk__gte=first_entitlement), TODAY
                )
        HouseholdSequence.objects.bulk_create(
            [HouseholdSequence(region_code=c, last_value=n) for c, n in per_community.items()],
            update_conflicts=True,
            unique_fields=["region_code"],
            update_fields=["last_value"],
        )
        return {
            "家庭": hh.rows,
            "人员": pp.rows,
            "收入记录": inc.rows,
            "待遇资格": ent.rows,
            **{f"其中{code}": n for code, n in counts.items()},
        }

    @staticmethod
    def _entitlement_codes() -> list[str]:
        return ["dibao", "tekun_basic", "tekun_care", "disability_living", "disability_care"]

    def _start_month(self) -> str:
        months = self.rng.randrange(0, 46)  # since 2023-01
        year, month = divmod(months, 12)
        return datetime.date(2023 + year, month + 1, 1).isoformat()

    def _income(
        self, inc: CopyFile, household_id: int, m: Member, area: str, dibao: bool, start, now
    ) -> None:
        rng = self.rng
        if dibao:
            # 低保 households: little counted income, so most stay eligible (per capita < standard).
            if 18 <= m.age < 60 and m.labour == "full" and rng.random() < 0.4:
                inc.add(
                    household_id, m.person_id, "wage", f"{rng.randrange(100, 500, 10)}.00", start, "", now
                )
            elif m.age >= 60 and rng.random() < 0.6:
                inc.add(
                    household_id,
                    m.person_id,
                    "pension_resident",
                    f"{rng.randrange(120, 260, 5)}.00",
                    start,
                    "",
                    now,
                )
            return
        if 18 <= m.age < 60 and rng.random() < 0.6:
            kind = rng.choice(("wage", "wage", "business", "agriculture" if area == "rural" else "wage"))
            inc.add(household_id, m.person_id, kind, f"{rng.randrange(1500, 9000, 10)}.00", start, "", now)
            if kind == "wage" and rng.random() < 0.5:
                inc.add(
                    household_id,
                    m.person_id,
                    "social_insurance",
                    f"{rng.randrange(100, 600, 10)}.00",
                    start,
                    "",
                    now,
                )
        elif m.age >= 60 and rng.random() < 0.85:
            if area == "urban":
                kind, amount = "pension_employee", rng.randrange(1800, 5200, 10)
            else:
                kind, amount = "pension_resident", rng.randrange(120, 260, 5)
            inc.add(household_id, m.person_id, kind, f"{amount}.00", start, "", now)
