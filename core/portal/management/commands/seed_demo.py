"""Build the demo district: regions, a user per role and area, ~2,000 households, standards.

Running it twice changes nothing: every object is looked up by its natural key first, and households
are generated only when the demo district has none yet (from a fixed random seed, so reproducible)."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from faker import Faker

from core.accounts.models import Role, Section, SectionRole, User
from core.benefits.models import BenefitType, Parameter, Standard
from core.portal import demo_data as demo
from core.portal.demo import demo_seeders, demo_today
from core.registry.choices import (
    AreaType,
    AssetKind,
    DisabilityCategory,
    IncomeKind,
    LabourCapacity,
    MaritalStatus,
    RegionLevel,
    Relation,
    SelfCare,
)
from core.registry.idnumbers import make_ric
from core.registry.models import (
    AssetRecord,
    Household,
    HouseholdSequence,
    IncomeRecord,
    Membership,
    Person,
    Region,
)


class Command(BaseCommand):
    help = "生成演示数据：绿园区区划、各角色演示账号、约2000户家庭、待遇标准（可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=2000, help="生成的家庭数（默认 2000）")
        parser.add_argument("--seed", type=int, default=20261123, help="随机种子")
        parser.add_argument("--quiet-accounts", action="store_true", help="不打印演示账号")

    def handle(self, *args, households: int, seed: int, quiet_accounts: bool, **options):
        with transaction.atomic():
            regions = self._regions()
            accounts = self._users(regions)
            self._benefits()
            # The households were registered before any demo case was entered about them.
            registered_on = timezone.localdate() - datetime.timedelta(days=demo.REGISTERED_DAYS_AGO)
            with demo_today(registered_on):
                created = self._households(regions, households, seed)
            for name, seeder in demo_seeders():
                self.stdout.write(f"演示数据：{name}")
                seeder(stdout=self.stdout, rng_seed=seed)
        self.stdout.write(self.style.SUCCESS(f"演示区划：{len(regions)} 个；新增家庭：{created} 户"))
        if not quiet_accounts:
            self._print_accounts(accounts)

    # -- regions ---------------------------------------------------------------------------------------
    def _regions(self) -> list[Region]:
        province, _ = Region.objects.get_or_create(
            code=demo.PROVINCE[0], defaults={"name": demo.PROVINCE[1], "level": RegionLevel.PROVINCE}
        )
        city, _ = Region.objects.get_or_create(
            code=demo.CITY[0], defaults={"name": demo.CITY[1], "level": RegionLevel.CITY, "parent": province}
        )
        district, _ = Region.objects.get_or_create(
            code=demo.DISTRICT[0],
            defaults={"name": demo.DISTRICT[1], "level": RegionLevel.DISTRICT, "parent": city},
        )
        if not district.complaint_phone:
            # 监督电话 on the 公示名单 and 张榜名单 (editable in admin: 行政区划).
            district.complaint_phone = demo.DISTRICT_COMPLAINT_PHONE
            district.save(update_fields=["complaint_phone"])
        regions = [province, city, district]

        def demo_region(code: str, name: str, level: RegionLevel, parent: Region, area: str) -> Region:
            """A street or community of the demo district; one seeded before is kept as it is."""
            region, _ = Region.objects.get_or_create(
                code=code,
                defaults={"name": name, "level": level, "parent": parent, "area_type": area, "is_demo": True},
            )
            regions.append(region)
            return region

        prefix = district.code[:6]
        for s, (street_name, rural, communities) in enumerate(demo.STREETS, start=1):
            area = AreaType.RURAL if rural else AreaType.URBAN
            street = demo_region(f"{prefix}{s:03d}000", street_name, RegionLevel.STREET, district, area)
            for c, community_name in enumerate(communities, start=1):
                demo_region(f"{prefix}{s:03d}{c:03d}", community_name, RegionLevel.COMMUNITY, street, area)
        return regions

    # -- users -----------------------------------------------------------------------------------------
    def _user(self, username: str, name: str, region: Region, role: str, *, staff: bool = False) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            # One hash for every demo account: hashing ~50 times would take most of the seed's time.
            if not hasattr(self, "_password_hash"):
                self._password_hash = make_password(demo.DEMO_PASSWORD)
            user = User(username=username, display_name=name, region=region, is_staff=staff)
            user.password = self._password_hash
            user.save()
            user.groups.add(Group.objects.get(name=role))
        return user

    def _users(self, regions: list[Region]) -> list[tuple[str, str, str]]:
        district = next(r for r in regions if r.level == RegionLevel.DISTRICT)
        rows = []
        # District roles are held in a section (业务科室): the last column is its code.
        for username, name, role, staff, section_code in [
            ("admin", "系统管理员", Role.SYSTEM_ADMIN, True, ""),
            ("kezhang", "王科长", Role.SECTION_CHIEF, False, "assistance"),
            ("kezhang2", "赵科长", Role.SECTION_CHIEF, False, "assistance"),
            ("keshi", "李经办", Role.SECTION_CASEWORKER, False, "assistance"),
            ("kezhang_yl", "孙科长", Role.SECTION_CHIEF, False, "eldercare"),
            ("lingdao", "陈局长", Role.BUREAU_LEADER, False, ""),
        ]:
            user = self._user(username, name, district, role, staff=staff)
            area = district.name
            if section_code:
                section = Section.objects.get(code=section_code)
                SectionRole.objects.get_or_create(user=user, section=section, role=role)
                area = f"{district.name}{section.name}"
            rows.append((username, role, area))
        for street in (r for r in regions if r.level == RegionLevel.STREET):
            s = int(street.code[6:9])
            username = f"jd{s:02d}"
            self._user(username, f"{street.name}审核员", street, Role.STREET_REVIEWER)
            rows.append((username, Role.STREET_REVIEWER, street.name))
        for community in (r for r in regions if r.level == RegionLevel.COMMUNITY):
            s, c = int(community.code[6:9]), int(community.code[9:12])
            username = f"sq{s:02d}{c:02d}"
            self._user(username, f"{community.name}经办人", community, Role.COMMUNITY_CASEWORKER)
            rows.append((username, Role.COMMUNITY_CASEWORKER, f"{community.parent.name}{community.name}"))
        return rows

    def _print_accounts(self, rows: list[tuple[str, str, str]]) -> None:
        self.stdout.write("")
        self.stdout.write(f"演示账号（密码均为 {demo.DEMO_PASSWORD}）：")
        shown = [r for r in rows if not r[0].startswith("sq") and not r[0].startswith("jd")]
        shown += [r for r in rows if r[0] in {"jd01", "jd02", "jd08"}]
        shown += [r for r in rows if r[0] in {"sq0101", "sq0102", "sq0201", "sq0801"}]
        for username, role, area in shown:
            self.stdout.write(f"  {username:<10} {role:<8} {area}")
        self.stdout.write(
            "  …… 每个街道/乡镇一个审核员 jdSS，每个社区/村一个经办人 sqSSCC（SS=街道序号，CC=社区序号）"
        )
        self.stdout.write("")

    # -- benefits --------------------------------------------------------------------------------------
    def _benefits(self) -> None:
        types = {}
        sections = {s.name: s for s in Section.objects.all()}
        for code, name, bureau, monthly, rounding, order in demo.BENEFIT_TYPES:
            types[code], _ = BenefitType.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "bureau": bureau,
                    "section": sections.get(bureau),
                    "is_monthly": monthly,
                    "rounding": rounding,
                    "sort_order": order,
                },
            )
            if types[code].section_id is None and bureau in sections:
                types[code].section = sections[bureau]
                types[code].save(update_fields=["section"])
        for code, area, tier, amount, unit, start, end, source in demo.STANDARDS:
            Standard.objects.get_or_create(
                benefit_type=types[code],
                area_type=area,
                tier=tier,
                effective_from=start,
                defaults={"amount": amount, "unit": unit, "effective_to": end, "source": source},
            )
        for key, name, value, start, source in demo.PARAMETERS:
            Parameter.objects.get_or_create(
                key=key, effective_from=start, defaults={"name": name, "value": value, "source": source}
            )

    # -- households ------------------------------------------------------------------------------------
    def _households(self, regions: list[Region], count: int, seed: int) -> int:
        communities = [r for r in regions if r.level == RegionLevel.COMMUNITY]
        if Household.objects.filter(region_code__startswith=demo.DISTRICT[0][:6]).exists():
            return 0
        rng = random.Random(seed)
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        today = datetime.date(2026, 11, 1)
        used_ids: set[str] = set()
        sequence_by_key: dict[tuple[str, datetime.date], int] = {}

        def new_id(birth: datetime.date, male: bool) -> str:
            key = ("220106", birth)
            while True:
                n = sequence_by_key.get(key, rng.randrange(0, 400)) + 1
                sequence_by_key[key] = n
                seq = n * 2 + (1 if male else 0)
                number = make_ric("220106", birth, seq % 1000)
                if number not in used_ids:
                    used_ids.add(number)
                    return number

        def birth_for_age(lo: int, hi: int) -> datetime.date:
            age_days = rng.randint(lo * 365 + 1, hi * 365 + 300)
            return today - datetime.timedelta(days=age_days)

        households: list[Household] = []
        plans: list[list[dict]] = []
        per_community = {c.code: 0 for c in communities}
        for i in range(count):
            community = communities[i % len(communities)]
            per_community[community.code] += 1
            number = f"{community.code}{per_community[community.code]:06d}"
            bank = rng.choice(["中国农业银行", "中国邮政储蓄银行", "吉林银行", "长春农商银行"])
            households.append(
                Household(
                    number=number,
                    region=community,
                    region_code=community.code,
                    area_type=community.area_type,
                    address=self._address(rng, fake, community),
                    phone=fake.phone_number(),
                    bank_name=bank,
                    bank_account="62" + "".join(str(rng.randrange(10)) for _ in range(17)),
                )
            )
            plans.append(self._plan_members(rng, birth_for_age))
        Household.objects.bulk_create(households, batch_size=1000)
        # Continue each community's 户编号 sequence after the demo households.
        HouseholdSequence.objects.bulk_create(
            [HouseholdSequence(region_code=code, last_value=n) for code, n in per_community.items() if n],
            update_conflicts=True,
            unique_fields=["region_code"],
            update_fields=["last_value"],
        )

        persons: list[Person] = []
        owners: list[tuple[int, dict]] = []
        for h_index, (household, members) in enumerate(zip(households, plans, strict=True)):
            surname = fake.last_name()
            for m in members:
                male = m["male"]
                given = fake.first_name_male() if male else fake.first_name_female()
                name = (
                    surname
                    if m["relation"] in (Relation.HEAD, Relation.CHILD, Relation.GRANDCHILD)
                    else fake.last_name()
                ) + given
                disabled = rng.random() < 0.06
                grade = rng.choice([1, 2, 2, 3, 3, 4]) if disabled else None
                persons.append(
                    Person(
                        name=name,
                        id_number=new_id(m["birth"], male),
                        sex="M" if male else "F",
                        birth_date=m["birth"],
                        household=household,
                        relation=m["relation"],
                        region_code=household.region_code,
                        phone=fake.phone_number() if m["relation"] == Relation.HEAD else "",
                        marital_status=m["marital"],
                        disability_category=rng.choice(DisabilityCategory.values) if disabled else "",
                        disability_grade=grade,
                        disability_cert_no=f"DC{rng.randrange(10**9):09d}" if disabled else "",
                        serious_illness=rng.random() < 0.03,
                        self_care=(
                            rng.choice([SelfCare.PARTIAL, SelfCare.NONE])
                            if (grade in (1, 2) or m["age"] >= 85) and rng.random() < 0.5
                            else SelfCare.FULL
                        ),
                        labour_capacity=(
                            LabourCapacity.NONE
                            if m["age"] >= 60 or m["age"] < 16 or grade in (1, 2)
                            else LabourCapacity.FULL
                        ),
                    )
                )
                owners.append((h_index, m))
        Person.objects.bulk_create(persons, batch_size=2000)

        memberships = []
        incomes = []
        assets = []
        heads = {}
        for person, (h_index, m) in zip(persons, owners, strict=True):
            household = households[h_index]
            joined = max(m["birth"], datetime.date(2015, 1, 1))
            memberships.append(
                Membership(person=person, household=household, relation=m["relation"], joined_on=joined)
            )
            if m["relation"] == Relation.HEAD:
                heads[h_index] = person
            if 18 <= m["age"] < 60 and rng.random() < 0.55:
                incomes.append(
                    IncomeRecord(
                        household=household,
                        person=person,
                        kind=rng.choice(
                            [IncomeKind.WAGE, IncomeKind.WAGE, IncomeKind.BUSINESS, IncomeKind.AGRICULTURE]
                        ),
                        monthly_amount=Decimal(rng.randrange(300, 4200, 10)),
                        period_start=demo.INCOMES_FROM,
                        note="演示数据",
                    )
                )
            elif m["age"] >= 60 and rng.random() < 0.8:
                kind = (
                    IncomeKind.PENSION_EMPLOYEE
                    if household.area_type == AreaType.URBAN
                    else IncomeKind.PENSION_RESIDENT
                )
                amount = (
                    rng.randrange(1800, 3600, 10)
                    if kind == IncomeKind.PENSION_EMPLOYEE
                    else rng.randrange(120, 260, 5)
                )
                incomes.append(
                    IncomeRecord(
                        household=household,
                        person=person,
                        kind=kind,
                        monthly_amount=Decimal(amount),
                        period_start=demo.INCOMES_FROM,
                        note="演示数据",
                    )
                )
        for h_index, household in enumerate(households):
            household.head = heads[h_index]
            if rng.random() < 0.5:
                # Half the households have a deposit, checked when they were registered: mostly a small
                # one (within the 财产 limits of 低保 whatever the household's size), one in ten a large
                # one (20,000–60,000 元, over the limit for a small household).
                large = rng.random() < 0.1
                value = rng.randrange(20000, 60000, 100) if large else rng.randrange(0, 9000, 100)
                assets.append(
                    AssetRecord(
                        household=household,
                        kind=AssetKind.DEPOSIT,
                        description="银行存款",
                        value=Decimal(value),
                        recorded_on=timezone.localdate(),
                    )
                )
        Membership.objects.bulk_create(memberships, batch_size=2000)
        Household.objects.bulk_update(households, ["head"], batch_size=1000)
        IncomeRecord.objects.bulk_create(incomes, batch_size=2000)
        AssetRecord.objects.bulk_create(assets, batch_size=2000)
        # Initial history rows, so each record's history starts with its registration.
        Household.history.bulk_history_create(households, default_change_reason="演示数据初始化")
        Person.history.bulk_history_create(persons, default_change_reason="演示数据初始化")
        IncomeRecord.history.bulk_history_create(incomes, default_change_reason="演示数据初始化")
        AssetRecord.history.bulk_history_create(assets, default_change_reason="演示数据初始化")
        return len(households)

    @staticmethod
    def _address(rng: random.Random, fake: Faker, community: Region) -> str:
        if community.area_type == AreaType.RURAL:
            return f"{community.parent.name}{community.name}{rng.randint(1, 9)}组{rng.randint(1, 120)}号"
        road = fake.street_name()
        return f"{road}{rng.randint(1, 300)}号{rng.randint(1, 6)}单元{rng.randint(1, 18)}{rng.randint(1, 4):02d}室"

    @staticmethod
    def _plan_members(rng: random.Random, birth_for_age) -> list[dict]:
        """A plausible household: size 1–5, a head, maybe a spouse, children, an elderly parent."""
        size = rng.choices([1, 2, 3, 4, 5], weights=[22, 30, 27, 14, 7])[0]
        head_age = rng.choices(
            [rng.randint(25, 44), rng.randint(45, 64), rng.randint(65, 95)], weights=[35, 40, 25]
        )[0]
        head_male = rng.random() < 0.6
        members = [dict(relation=Relation.HEAD, age=head_age, male=head_male)]
        if size >= 2:
            members.append(
                dict(relation=Relation.SPOUSE, age=max(20, head_age + rng.randint(-5, 3)), male=not head_male)
            )
        for _ in range(max(0, size - 2)):
            if (
                head_age < 60
                and rng.random() < 0.25
                and len([m for m in members if m["relation"] == Relation.PARENT]) < 2
            ):
                members.append(
                    dict(
                        relation=Relation.PARENT,
                        age=min(101, head_age + rng.randint(22, 32)),
                        male=rng.random() < 0.4,
                    )
                )
            else:
                members.append(
                    dict(
                        relation=Relation.CHILD,
                        age=max(0, head_age - rng.randint(22, 35)),
                        male=rng.random() < 0.5,
                    )
                )
        for m in members:
            m["birth"] = birth_for_age(m["age"], m["age"])
            if m["relation"] in (Relation.HEAD, Relation.SPOUSE):
                m["marital"] = (
                    MaritalStatus.MARRIED
                    if size >= 2
                    else rng.choice([MaritalStatus.UNMARRIED, MaritalStatus.DIVORCED, MaritalStatus.WIDOWED])
                )
            elif m["relation"] == Relation.PARENT:
                m["marital"] = rng.choice([MaritalStatus.MARRIED, MaritalStatus.WIDOWED])
            else:
                m["marital"] = (
                    MaritalStatus.UNMARRIED
                    if m["age"] < 25
                    else rng.choice([MaritalStatus.UNMARRIED, MaritalStatus.MARRIED])
                )
        return members
