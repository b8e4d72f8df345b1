"""Generate a synthetic prefecture-level city for benchmarks (issue 5): regions, households, people,
memberships, incomes and active entitlements of the 社会救助 benefit types.

Default size: 1,000,000 people in ~400,000 households under ~1,000 communities in 10 districts of city
2201 (district codes 220150…220159 — demo codes, marked is_demo, so the city coexists with the demo
district 220106). Reproducible from --seed: the same seed and size give the same city.

On PostgreSQL (issue 14 item 7: ≤ 60 s for a million people) the rows are generated in chunks of
households; worker processes encrypt each chunk's ID numbers and bank accounts while the next chunk is
generated, and a thread COPYs the finished chunks (core/registry/bulkload.py) — memory stays flat
whatever the size. The five tables' non-unique indexes and unique constraints are dropped before the
load and built again from their definitions after it, in the same transaction. Primary keys are
assigned here and the identity sequences moved past them afterwards. SQLite is refused unless the city
is small (executemany would take an hour for a million people). `-v 2` prints the time of each step."""

from __future__ import annotations

import datetime
import json
import os
import random
import time
from bisect import bisect
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import accumulate

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max, Model
from django.utils import timezone

from core.benefits.calculators import calculator_class
from core.benefits.models import BenefitType, Entitlement
from core.registry.bulkload import CopyWriter, SecondaryIndexes, Workers, bulk_insert, run_pending_checks
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
# Weighted draws (Member plans, 特困 care tiers) as random.choices computes them: cumulative weights.
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
SIZE_WEIGHTS = list(accumulate((25, 30, 25, 12, 6, 2)))
SIZE_TOTAL = SIZE_WEIGHTS[-1] + 0.0
HEAD_AGE_WEIGHTS = list(accumulate((35, 40, 25)))
CARE_WEIGHTS = list(accumulate((60, 28, 12)))


# The per-row work that needs no database and no random draw, done by `bulkload.Workers` (forked
# processes for a large city): the fields' own encryption (the cryptography library's Fernet, ~14 µs a
# value) of the bank account and of the ID number, whose check character and search hash are computed
# there too. `_finishing_tools` fills this in the command's process before the workers fork; they inherit it.
_TOOLS: dict[str, Callable[[str], str]] = {}


def _finishing_tools() -> None:
    if not _TOOLS:
        _TOOLS["account"] = Household._meta.get_field("bank_account").encrypt
        _TOOLS["id_number"] = Person._meta.get_field("id_number").encrypt
        _TOOLS["hash"] = pii_hasher()
        _TOOLS["account"]("0")  # the keys derived (PBKDF2) once, here, not in every worker
        _TOOLS["id_number"]("0")


def _household_rows(rows: list[tuple[str, str, str]]) -> bytes:
    """COPY text of households given as (text before the bank account, the account, text after)."""
    encrypt = _TOOLS["account"]
    return "".join([f"{before}{encrypt(account)}{after}" for before, account, after in rows]).encode()


def _person_rows(rows: list[tuple[str, str, str]]) -> bytes:
    """COPY text of persons given as (text before the ID number, its first 17 characters, text after
    its search hash)."""
    encrypt, digest = _TOOLS["id_number"], _TOOLS["hash"]
    out = []
    for before, first17, after in rows:
        number = first17 + check_char(first17)
        out.append(f"{before}{encrypt(number)}\t{digest(number)}{after}")
    return "".join(out).encode()


@dataclass
class Chunk:
    """The rows of a run of consecutive households, as COPY text (PostgreSQL's text format; generated
    values hold no tab, newline or backslash) — households and persons in three parts around the
    values the workers finish (above)."""

    households: list[tuple[str, str, str]] = field(default_factory=list)
    persons: list[tuple[str, str, str]] = field(default_factory=list)
    memberships: list[str] = field(default_factory=list)
    incomes: list[str] = field(default_factory=list)
    entitlements: list[str] = field(default_factory=list)

    def blocks(self, workers: Workers) -> dict[type[Model], Future | bytes]:
        """Per model, its rows' COPY text or the workers' Future of it (in Command.COLUMNS' order)."""
        return {
            Household: workers.submit(_household_rows, self.households),
            Person: workers.submit(_person_rows, self.persons),
            Membership: "".join(self.memberships).encode(),
            IncomeRecord: "".join(self.incomes).encode(),
            Entitlement: "".join(self.entitlements).encode(),
        }


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
        started = self.mark = time.perf_counter()
        self.verbosity = opts["verbosity"]
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

    # The draws are written as rng._randbelow(n) — what rng.choice, randint and randrange reduce to, so
    # the same values from the same state — and weighted choices as random.choices computes them: a million
    # people take ~20 million draws, and the layers of those methods were a third of the generator's time.
    # Each line says the call it stands for; tests check both forms give the same draws.
    def _plan(self) -> list[Member]:
        rng = self.rng
        below, random = rng._randbelow, rng.random
        size = HOUSEHOLD_SIZES[bisect(SIZE_WEIGHTS, random() * SIZE_TOTAL, 0, 5)]  # choices(weights=…)[0]
        ages = (22 + below(23), 45 + below(20), 65 + below(34))  # randint(22, 44), (45, 64), (65, 98)
        head_age = ages[bisect(HEAD_AGE_WEIGHTS, random() * 100.0, 0, 2)]  # choices(weights=(35, 40, 25))[0]
        head_male = random() < 0.6
        members = [Member("head", head_age, head_male)]
        if size >= 2:
            members.append(
                Member("spouse", max(20, head_age - 5 + below(9)), not head_male)
            )  # randint(-5, 3)
        parents = 0
        for _ in range(size - len(members)):
            if head_age < 60 and parents < 2 and random() < 0.25:
                parents += 1
                members.append(
                    Member("parent", min(102, head_age + 22 + below(11)), random() < 0.4)
                )  # randint(22, 32)
            else:
                members.append(
                    Member("child", max(0, head_age - 22 - below(14)), random() < 0.5)
                )  # randint(22, 35)
        for m in members:
            age = m.age
            m.birth = TODAY - datetime.timedelta(
                days=age * 365 + 1 + below(364) + age // 4
            )  # randint(1, 364)
            if m.relation in ("head", "spouse"):
                m.marital = "married" if size >= 2 else ("unmarried", "divorced", "widowed")[below(3)]
            elif m.relation == "parent":
                m.marital = ("married", "widowed")[below(2)]
            else:
                m.marital = "unmarried" if age < 25 else ("unmarried", "married")[below(2)]
            # ~6 % disabled (第二次全国残疾人抽样调查: 6.34 %), more among the old.
            if random() < (0.04 if age < 60 else 0.12):
                m.disability = DISABILITY_CATEGORIES[below(7)]
                m.grade = (1, 2, 2, 3, 3, 4, 4)[below(7)]
            m.illness = random() < 0.03
            if (m.grade in (1, 2) or age >= 85) and random() < 0.5:
                m.self_care = ("partial", "none")[below(2)]
            m.labour = "none" if age >= 60 or age < 16 or m.grade in (1, 2) else "full"
        return members

    # Columns of the COPY text `_generate` writes, per model; the ID number and bank account encrypted by
    # the workers (_TOOLS).
    COLUMNS = {
        Household: [
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
            # written here: the load skips the triggers that keep them (core/registry/household_kept.py)
            "living_members",
            "head_name",
            "created_at",
            "updated_at",
        ],
        Person: [
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
        Membership: ["person_id", "household_id", "relation", "joined_on", "reason"],
        IncomeRecord: [
            "household_id",
            "person_id",
            "kind",
            "monthly_amount",
            "period_start",
            "note",
            "recorded_at",
        ],
        Entitlement: [
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
    }
    CHUNK_HOUSEHOLDS = 10_000  # ~25,000 people: ~12 MB of COPY text per chunk, 3 chunks ahead at most
    POOL_MIN_PEOPLE = 50_000  # below, the workers' part runs in this process (forking costs more)

    def _people(self, communities: list[Region], people: int) -> dict[str, int]:
        benefit = {bt.code: bt.pk for bt in BenefitType.objects.filter(code__in=self._entitlement_codes())}
        missing = set(self._entitlement_codes()) - set(benefit)
        if missing:
            raise CommandError(
                f"缺少待遇类型 {sorted(missing)}：请先运行 migrate（assistance 迁移会建立待遇类型）。"
            )
        first_entitlement = self._first_free_id(Entitlement)
        self.counts = {"家庭": 0, "人员": 0, "收入记录": 0, "待遇资格": 0}
        self.granted = dict.fromkeys(self._entitlement_codes(), 0)
        self.per_community: dict[str, int] = {}
        chunks = self._generate(
            communities, people, benefit, self._first_free_id(Household), self._first_free_id(Person)
        )
        _finishing_tools()
        if connection.vendor == "postgresql":
            self._load_postgresql(chunks, people, benefit, first_entitlement)
        else:
            workers = Workers(1)
            for chunk in chunks:
                for model, data in chunk.blocks(workers).items():
                    bulk_insert(model._meta.db_table, self.COLUMNS[model], data)
            self._prepare_loaded(benefit, first_entitlement)
        HouseholdSequence.objects.bulk_create(
            [HouseholdSequence(region_code=c, last_value=n) for c, n in self.per_community.items()],
            update_conflicts=True,
            unique_fields=["region_code"],
            update_fields=["last_value"],
        )
        return {**self.counts, **{f"其中{code}": n for code, n in self.granted.items()}}

    def _prepare_loaded(self, benefit: dict[str, int], first_entitlement: int) -> None:
        """What each grant's decision would have fixed (the 低保 amount basis): the calculators say."""
        for code, pk in benefit.items():
            calculator = calculator_class(code)
            if calculator is not None:
                calculator(BenefitType.objects.get(pk=pk)).prepare_loaded(
                    Entitlement.objects.filter(benefit_type_id=pk, pk__gte=first_entitlement), TODAY
                )

    def _load_postgresql(
        self, chunks: Iterator[Chunk], people: int, benefit: dict[str, int], first_entitlement: int
    ) -> None:
        """COPY each chunk from a writer thread while the next is generated and the workers encrypt;
        the secondary indexes of a table that the load more than doubles dropped first and built after
        it (in this transaction: a failure restores them); the identity sequences moved past the ids;
        then the calculators' preparation of the loaded entitlements."""
        from psycopg import sql

        tables = [model._meta.db_table for model in self.COLUMNS]
        statements = {
            model: sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(model._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            for model, columns in self.COLUMNS.items()
        }
        rows_added = dict(zip(tables, (people // 3, people, people, people // 2, people // 10), strict=True))
        with connection.cursor() as wrapper:
            cursor = wrapper.cursor
            # The rows are generated consistent (every head, household and person id exists);
            # checking ~4 million deferred foreign keys one trigger call at a time would triple the
            # load time. replica mode skips those triggers in this transaction only; other constraints
            # stay in force. (Only a superuser may; others load with the checks, at COMMIT, slower.)
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            skip_fk_triggers = bool(cursor.fetchone()[0])
            indexes = SecondaryIndexes(cursor, tables)
            # PostgreSQL alters no table with foreign-key checks pending. Without replica mode every COPY
            # queues its rows' checks: the indexes then stay and are maintained row by row. With it, the
            # checks still pending from earlier in an enclosing transaction (tests) run first.
            if skip_fk_triggers:
                defer_again = run_pending_checks(cursor)
                cursor.execute("SET LOCAL session_replication_role = replica")
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # the index builds sort in memory
                dropped = sum(indexes.drop(table, unless_rows=n) for table, n in rows_added.items())
                self._phase(f"删除 {dropped} 个二级索引")
            # The pool forks before the writer's thread starts.
            workers = Workers((os.cpu_count() or 1) if people >= self.POOL_MIN_PEOPLE else 1)
            try:
                writer = CopyWriter(statements)
                try:
                    for chunk in chunks:
                        writer.put(chunk.blocks(workers))
                except BaseException:
                    workers.close(cancel=True)
                    writer.close(raising=False)
                    raise
                writer.close()
            finally:
                workers.close()
            self._phase("生成并 COPY")
            entitlements = Entitlement._meta.db_table
            made = indexes.create([t for t in tables if t != entitlements])
            for table in tables:
                last = sql.SQL("SELECT MAX(id) FROM {}").format(sql.Identifier(table))
                cursor.execute(
                    sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'id'), ({}))").format(last), [table]
                )
            self._phase(f"重建 {made} 个索引")
            # Still in replica mode and before the entitlements' own indexes are built: the bases' UPDATE
            # (of every 低保 entitlement, its foreign keys unchanged) then neither queues a foreign-key
            # check per row nor maintains those indexes row by row.
            self._prepare_loaded(benefit, first_entitlement)
            self._phase("低保核定基础")
            made = indexes.create()
            if skip_fk_triggers:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")
                defer_again()
            self._phase(f"重建待遇资格 {made} 个索引")

    def _phase(self, label: str) -> None:
        """With -v 2: how long each step took."""
        now = time.perf_counter()
        if self.verbosity >= 2:
            self.stdout.write(f"  {label}：{now - self.mark:.1f} 秒")
        self.mark = now

    def _generate(
        self,
        communities: list[Region],
        people: int,
        benefit: dict[str, int],
        next_household: int,
        person_id: int,
    ) -> Iterator[Chunk]:
        """The city's rows, CHUNK_HOUSEHOLDS households at a time. Every value comes from self.rng in a
        fixed order — the same seed and size give the same city (tests pin its digest)."""
        rng = self.rng
        below, random = rng._randbelow, rng.random  # see _plan
        now = timezone.now().isoformat()
        stamps = f"{now}\t{now}\n"
        households_expected = int(people / 2.5) + 10
        # Shares of the entitlements (issue 5: dibao household entitlements ~60 %).
        target = int(people * self.entitlement_rate)
        dibao_rate = target * 0.60 / households_expected
        # An entitlement row after its person and household ids (\N for none), by benefit and tier.
        entitlement_head = {code: f"{pk}\t" for code, pk in benefit.items()}
        params = {"": "{}"} | {
            tier: json.dumps({"tier": tier}, ensure_ascii=False)
            for tier in ("集中供养", "分散供养", *CARE_TIERS, "一级", "二级")
        }

        person_share = {  # of person-level entitlements, per candidate
            "tekun_basic": 0.10,
            "tekun_care": 0.08,
            "disability_living": 0.12,
            "disability_care": 0.10,
        }
        sequence: dict[tuple[str, datetime.date, bool], int] = {}
        per_community = self.per_community
        granted = self.granted
        counts = self.counts
        household_id = next_household
        made = 0
        income_start = datetime.date(2026, 1, 1).isoformat()
        joined_floor = datetime.date(2015, 1, 1)
        # Expected candidates, to turn the target counts into probabilities.
        old_single_rate = 0.25 * 0.35 * 0.775  # one-person, head 60+, not already 低保
        tekun_p = min(1.0, target * person_share["tekun_basic"] / (households_expected * old_single_rate))
        disabled_people = people * 0.06
        living_p = min(1.0, target * person_share["disability_living"] / disabled_people)
        care_p = min(1.0, target * person_share["disability_care"] / (disabled_people * 3 / 7))
        chunk = Chunk()

        while made < people:
            community = communities[(household_id - next_household) % len(communities)]
            code = community.code
            area = community.area_type
            district = code[:6]
            members = self._plan()[: people - made]
            made += len(members)
            per_community[code] = per_community.get(code, 0) + 1
            number = f"{code}{per_community[code]:06d}"
            surname = SURNAMES[below(len(SURNAMES))]  # choice(SURNAMES)
            for m in members:
                m.person_id = person_id
                person_id += 1
            head = members[0]
            if area == "rural":  # randint(1, 9), randint(1, 150)
                address = f"{community.name}{1 + below(9)}组{1 + below(150)}号"
            else:  # choice(ROADS), randint(1, 3000), (1, 6), (1, 18), (1, 4)
                address = (
                    f"{ROADS[below(len(ROADS))]}{1 + below(3000)}号{1 + below(6)}单元"
                    f"{1 + below(18)}{1 + below(4):02d}室"
                )
            is_dibao = random() < dibao_rate
            phone = f"1{'3578'[below(4)]}{below(10**9):09d}"  # choice("3578"), randrange(10**9)
            bank = BANKS[below(len(BANKS))]  # choice(BANKS)
            account = "62" + f"{below(10**17):017d}"  # randrange(10**17)
            for m in members:
                given_names = GIVEN_MALE if m.male else GIVEN_FEMALE  # choice(...) for choice((1, 2, 2))
                length = (1, 2, 2)[below(3)]
                given = given_names[below(len(given_names))]
                if length == 2:
                    given += given_names[below(len(given_names))]
                family = surname if m.relation in ("head", "child") else SURNAMES[below(len(SURNAMES))]
                key = (district, m.birth, m.male)
                n = sequence.get(key, 0)
                sequence[key] = n + 1
                if n >= 500:
                    raise CommandError("同一区县同日出生同性别人数超过500，请增加区县数")
                birth = m.birth.isoformat()
                cert = f"DC{below(10**9):09d}" if m.disability else ""  # randrange(10**9)
                grade = r"\N" if m.grade is None else m.grade
                chunk.persons.append(
                    (
                        f"{m.person_id}\t{family}{given}\tric\t",
                        f"{district}{birth[:4]}{birth[5:7]}{birth[8:]}{n * 2 + (1 if m.male else 0):03d}",
                        f"\t{'M' if m.male else 'F'}\t{birth}\t汉族\t\t{household_id}\t{m.relation}\t{code}"
                        f"\t{m.marital}\t{m.disability}\t{grade}\t{cert}"
                        f"\t{'t' if m.illness else 'f'}\t{m.self_care}\t{m.labour}\t{stamps}",
                    )
                )
                chunk.memberships.append(
                    f"{m.person_id}\t{household_id}\t{m.relation}\t{max(m.birth, joined_floor).isoformat()}\t\n"
                )
                self._income(
                    chunk.incomes, f"{household_id}\t{m.person_id}\t", m, area, is_dibao, income_start, now
                )
                if m is head:
                    head_name = f"{family}{given}"
            # After its members (no random draw in between): the kept columns are the head's name and the
            # member count — every member alive.
            chunk.households.append(
                (
                    f"{household_id}\t{number}\t{community.pk}\t{code}\t{address}\t{area}\t{head.person_id}"
                    f"\t{phone}\t{bank}\t",
                    account,
                    f"\t\tt\t{len(members)}\t{head_name}\t{stamps}",
                )
            )
            start = self._start_month()
            # Each grant: one active entitlement, with a tier in its params where the benefit has tiers.
            rest = f"\t{code}\t{area}\t{start}\tactive\t\t"
            if is_dibao:
                chunk.entitlements.append(
                    f"{entitlement_head['dibao']}\\N\t{household_id}{rest}{{}}\t{stamps}"
                )
                granted["dibao"] += 1
            elif len(members) == 1 and head.age >= 60 and random() < tekun_p:
                tier = "集中供养" if random() < 0.3 else "分散供养"
                beneficiary = f"{head.person_id}\t{household_id}"
                chunk.entitlements.append(
                    f"{entitlement_head['tekun_basic']}{beneficiary}{rest}{params[tier]}\t{stamps}"
                )
                granted["tekun_basic"] += 1
                if random() < 0.8:
                    care = CARE_TIERS[bisect(CARE_WEIGHTS, random() * 100.0, 0, 2)]  # choices(weights=…)[0]
                    chunk.entitlements.append(
                        f"{entitlement_head['tekun_care']}{beneficiary}{rest}{params[care]}\t{stamps}"
                    )
                    granted["tekun_care"] += 1
            for m in members:
                if not m.disability:
                    continue
                if random() < living_p:
                    chunk.entitlements.append(
                        f"{entitlement_head['disability_living']}{m.person_id}\t\\N{rest}{{}}\t{stamps}"
                    )
                    granted["disability_living"] += 1
                if m.grade in (1, 2) and random() < care_p:
                    grade = "一级" if m.grade == 1 else "二级"
                    chunk.entitlements.append(
                        f"{entitlement_head['disability_care']}{m.person_id}\t\\N{rest}{params[grade]}\t{stamps}"
                    )
                    granted["disability_care"] += 1
            household_id += 1
            if len(chunk.households) == self.CHUNK_HOUSEHOLDS or made >= people:
                counts["家庭"] += len(chunk.households)
                counts["人员"] += len(chunk.persons)
                counts["收入记录"] += len(chunk.incomes)
                counts["待遇资格"] += len(chunk.entitlements)
                yield chunk
                chunk = Chunk()

    @staticmethod
    def _entitlement_codes() -> list[str]:
        return ["dibao", "tekun_basic", "tekun_care", "disability_living", "disability_care"]

    def _start_month(self) -> str:
        months = self.rng._randbelow(46)  # randrange(0, 46): since 2023-01
        year, month = divmod(months, 12)
        return datetime.date(2023 + year, month + 1, 1).isoformat()

    def _income(
        self, incomes: list[str], owner: str, m: Member, area: str, dibao: bool, start: str, now: str
    ) -> None:
        """The member's income records, as COPY text lines after `owner` (household and person ids)."""
        below, random = self.rng._randbelow, self.rng.random  # see _plan
        tail = f"\t{start}\t\t{now}\n"
        age = m.age
        if dibao:
            # 低保 households: little counted income, so most stay eligible (per capita < standard).
            if 18 <= age < 60 and m.labour == "full" and random() < 0.4:
                incomes.append(f"{owner}wage\t{100 + 10 * below(40)}.00{tail}")  # randrange(100, 500, 10)
            elif age >= 60 and random() < 0.6:
                incomes.append(f"{owner}pension_resident\t{120 + 5 * below(28)}.00{tail}")  # (120, 260, 5)
            return
        if 18 <= age < 60 and random() < 0.6:
            # choice(("wage", "wage", "business", "agriculture" or "wage")), randrange(1500, 9000, 10)
            kind = ("wage", "wage", "business", "agriculture" if area == "rural" else "wage")[below(4)]
            incomes.append(f"{owner}{kind}\t{1500 + 10 * below(750)}.00{tail}")
            if kind == "wage" and random() < 0.5:
                incomes.append(f"{owner}social_insurance\t{100 + 10 * below(50)}.00{tail}")  # (100, 600, 10)
        elif age >= 60 and random() < 0.85:
            if area == "urban":
                kind, amount = "pension_employee", 1800 + 10 * below(340)  # randrange(1800, 5200, 10)
            else:
                kind, amount = "pension_resident", 120 + 5 * below(28)  # randrange(120, 260, 5)
            incomes.append(f"{owner}{kind}\t{amount}.00{tail}")
