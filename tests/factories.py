"""factory-boy factories shared by every test (Faker zh_CN, valid ID numbers)."""

from __future__ import annotations

import datetime
import itertools

import factory
from django.contrib.auth.models import Group

from core.accounts.models import Section, SectionRole, User
from core.accounts.sections import DISTRICT_ROLES
from core.registry.choices import AreaType, RegionLevel, Relation
from core.registry.idnumbers import make_ric
from core.registry.models import Household, Membership, Person, Region

_seq = itertools.count(1)


def region_tree(district_code: str = "220106000000") -> dict[str, Region]:
    """A district with two streets, each with two communities (one urban, one rural under street 2)."""
    regions = {}
    city, _ = Region.objects.get_or_create(
        code=district_code[:4] + "00000000", defaults={"name": "长春市", "level": RegionLevel.CITY}
    )
    district, _ = Region.objects.get_or_create(
        code=district_code, defaults={"name": "绿园区", "level": RegionLevel.DISTRICT, "parent": city}
    )
    regions["district"] = district
    for s in (1, 2):
        street, _ = Region.objects.get_or_create(
            code=f"{district_code[:6]}{s:03d}000",
            defaults={"name": f"测试街道{s}", "level": RegionLevel.STREET, "parent": district},
        )
        regions[f"street{s}"] = street
        for c in (1, 2):
            rural = s == 2 and c == 2
            community, _ = Region.objects.get_or_create(
                code=f"{district_code[:6]}{s:03d}{c:03d}",
                defaults={
                    "name": f"测试{'村' if rural else '社区'}{s}-{c}",
                    "level": RegionLevel.COMMUNITY,
                    "parent": street,
                    "area_type": AreaType.RURAL if rural else AreaType.URBAN,
                },
            )
            regions[f"community{s}{c}"] = community
    return regions


DEFAULT_SECTIONS = ("assistance",)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    # Staff are named apart from the people of the registry (PersonFactory draws zh_CN names): a test
    # asserting a person's name is absent from a page would otherwise find the signed-in user's
    # namesake in the header. Fixed width and a closing character: no name is a prefix of another.
    display_name = factory.Sequence(lambda n: f"职员{n:05d}号")
    password = factory.PostGenerationMethodCall("set_password", "Passw0rd-2026")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))
        if create:
            self.save()

    @factory.post_generation
    def sections(self, create, extracted, **kwargs):
        """The sections (业务科室 codes) the user's district roles (科室经办人, 科长) are held in:
        `UserFactory(roles=["科长"], sections=["eldercare"])`; by default 社会救助科 ("assistance"), the
        bureau the tests exercise; `sections=[]` for none."""
        if not create:
            return
        codes = DEFAULT_SECTIONS if extracted is None else extracted
        roles = [r for r in DISTRICT_ROLES if self.has_role(r)]
        for code in codes:
            section = Section.objects.get(code=code)
            for role in roles:
                SectionRole.objects.get_or_create(user=self, section=section, role=role)
        self.__dict__.pop("_role_cache", None)
        self.__dict__.pop("_section_roles_cache", None)


def valid_id_number(
    birth: datetime.date | None = None, area: str = "220106", male: bool | None = None
) -> str:
    birth = birth or datetime.date(1970, 1, 1) + datetime.timedelta(days=next(_seq) * 37 % 15000)
    seq = next(_seq) % 1000
    if male is True:
        seq |= 1
    elif male is False:
        seq &= ~1
    return make_ric(area, birth, seq)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    number = factory.Sequence(lambda n: f"H{n:08d}")
    region = factory.LazyFunction(lambda: region_tree()["community11"])
    region_code = factory.LazyAttribute(lambda o: o.region.code)
    area_type = factory.LazyAttribute(lambda o: o.region.area_type)
    address = factory.Faker("street_address", locale="zh_CN")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Faker("name", locale="zh_CN")
    birth_date = factory.LazyFunction(
        lambda: datetime.date(1960, 1, 1) + datetime.timedelta(days=next(_seq) % 20000)
    )
    id_number = factory.LazyAttribute(lambda o: valid_id_number(o.birth_date))
    sex = factory.LazyAttribute(lambda o: "M" if int(o.id_number[16]) % 2 else "F")
    household = None
    relation = ""
    region_code = factory.LazyAttribute(lambda o: o.household.region_code if o.household else "")


def household_with_members(region: Region, *, size: int = 2, number: str | None = None) -> Household:
    """A household with `size` members, the first the head, memberships open from 2020-01-01."""
    kwargs = {"region": region, "region_code": region.code, "area_type": region.area_type}
    if number:
        kwargs["number"] = number
    household = HouseholdFactory(**kwargs)
    relations = [Relation.HEAD, Relation.SPOUSE, Relation.CHILD, Relation.CHILD, Relation.PARENT]
    for i in range(size):
        relation = relations[i % len(relations)]
        person = PersonFactory(household=household, relation=relation)
        Membership.objects.create(
            person=person, household=household, relation=relation, joined_on=datetime.date(2020, 1, 1)
        )
        if i == 0:
            household.head = person
            household.save(update_fields=["head"])
    return household


def dibao_entitlement(
    household: Household,
    start_month: datetime.date,
    *,
    covered=None,
    facts_on: datetime.date | None = None,
    params: dict | None = None,
    label: str = "审批确认",
    **fields,
):
    """A 低保 entitlement as a confirmation grants it: with the basis (assistance.bases) fixed from the
    household's facts recorded now, read on `facts_on` (default its first month). `covered`: the person
    ids of a 单人保 (None: the whole household)."""
    from assistance import bases
    from core.benefits.models import BenefitType
    from core.benefits.services import entitlement_create

    only = sorted(covered) if covered is not None else None
    basis = bases.bases_from_facts(
        {household.pk: only}, facts_on or start_month, label=label, start=start_month
    )[household.pk]
    all_params = {**(params or {}), bases.BASES_KEY: [basis]}
    if only is not None:
        all_params["covered_person_ids"] = only
    return entitlement_create(
        benefit_type=BenefitType.objects.get(code="dibao"),
        household=household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=start_month,
        params=all_params,
        **fields,
    )
