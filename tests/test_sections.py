"""Sections (业务科室): district roles are held in a section; recalculating and locking a benefit type's runs
need the role in the type's section; a district user's menu shows the bureaus they work in."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from assistance.holiday import services as holiday_services
from core.accounts.models import Section, SectionRole
from core.accounts.navigation import navigation_for
from core.accounts.roles import sync_role_groups
from core.accounts.sections import DISTRICT_ROLES, has_section_role, section_name, user_section_codes
from core.benefits import services, tasks
from core.benefits.exceptions import BenefitsError, SectionRoleRequired
from core.benefits.models import BenefitType, PaymentRun
from tests.factories import UserFactory

MONTH = datetime.date(2026, 3, 1)
LOCK_REFUSAL = "您不是社会救助科的科长，不能锁定该批次"
RECALC_REFUSAL = "您不是社会救助科的科室经办人或科长，不能计算该批次"


def _grant(user, section: str, role: str) -> None:
    SectionRole.objects.create(user=user, section=Section.objects.get(code=section), role=role)


# --- the data ----------------------------------------------------------------------------------------


def test_sections_are_seeded_and_assistance_types_belong_to_assistance(db):
    assert dict(Section.objects.values_list("code", "name")) == {
        "assistance": "社会救助科",
        "eldercare": "养老服务科",
        "children": "儿童福利科",
        "social_orgs": "社会组织管理科",
        "funeral": "社会事务科",
        "marriage": "婚姻登记处",
    }
    for code in ("dibao", "tekun_basic", "tekun_care", "temp_assistance", "disability_living"):
        assert BenefitType.objects.get(code=code).section.code == "assistance", code
    assert holiday_services.holiday_benefit_type().section.code == "assistance"


def test_every_role_permission_exists_and_the_admin_role_manages_sections(db):
    sync_role_groups(Group, Permission)  # strict: a permission missing from the database raises
    admin_role = Group.objects.get(name="系统管理员")
    codenames = set(admin_role.permissions.values_list("codename", flat=True))
    assert {"add_sectionrole", "change_sectionrole", "delete_sectionrole", "change_section"} <= codenames


# --- has_section_role --------------------------------------------------------------------------------

# (groups, section roles held, asked section, asked roles) → answer
TRUTH_TABLE = [
    # a 科长 of 社会救助科
    (["科长"], [("assistance", "科长")], "assistance", ("科长",), True),
    (["科长"], [("assistance", "科长")], "eldercare", ("科长",), False),
    (["科长"], [("assistance", "科长")], "assistance", ("科室经办人",), False),
    (["科长"], [("assistance", "科长")], "assistance", (), True),  # any district role
    (["科长"], [("assistance", "科长")], "", ("科长",), True),  # a type naming no section: the group
    # the group without a section row, and a section row without the group
    (["科长"], [], "assistance", ("科长",), False),
    (["科长"], [], "", ("科长",), True),
    (["局领导"], [("assistance", "科长")], "assistance", ("科长",), False),
    # roles in several sections
    (
        ["科室经办人", "科长"],
        [("assistance", "科室经办人"), ("eldercare", "科长")],
        "eldercare",
        ("科长",),
        True,
    ),
    (
        ["科室经办人", "科长"],
        [("assistance", "科室经办人"), ("eldercare", "科长")],
        "assistance",
        ("科长",),
        False,
    ),
    (
        ["科室经办人", "科长"],
        [("assistance", "科室经办人"), ("eldercare", "科长")],
        "assistance",
        ("科室经办人", "科长"),
        True,
    ),
    # general roles need no section
    (["社区经办人"], [], "assistance", ("社区经办人",), True),
    (["街道审核员"], [], "eldercare", ("街道审核员", "科长"), True),
    (["社区经办人"], [], "assistance", ("科长",), False),
    (["局领导"], [], "assistance", (), False),
]


@pytest.mark.parametrize(("groups", "held", "section", "roles", "expected"), TRUTH_TABLE)
def test_has_section_role_truth_table(make_user, groups, held, section, roles, expected):
    user = make_user(*groups, region="district", sections=[])
    for code, role in held:
        _grant(user, code, role)
    assert has_section_role(user, section, *roles) is expected


def test_superuser_inactive_section_and_anonymous(make_user, db):
    from django.contrib.auth.models import AnonymousUser

    root = UserFactory(is_superuser=True)
    assert has_section_role(root, "eldercare", "科长")
    assert not has_section_role(AnonymousUser(), "", "科长")

    chief = make_user("科长", region="district", sections=["eldercare"])
    Section.objects.filter(code="eldercare").update(is_active=False)
    assert not has_section_role(chief, "eldercare", "科长")


def test_user_section_codes_by_role_and_cached(make_user, django_assert_num_queries):
    user = make_user("科室经办人", "科长", region="district", sections=[])
    _grant(user, "assistance", "科室经办人")
    _grant(user, "eldercare", "科长")
    _grant(user, "children", "科长")
    with django_assert_num_queries(1):
        assert user_section_codes(user) == {"assistance", "eldercare", "children"}
        assert user_section_codes(user, "科长") == {"eldercare", "children"}
        assert user_section_codes(user, "科室经办人") == {"assistance"}
    with django_assert_num_queries(1):  # the user's groups; the section roles are cached
        assert has_section_role(user, "children", "科长")
    assert DISTRICT_ROLES == ("科室经办人", "科长")


def test_section_name(db):
    assert section_name("funeral") == "社会事务科"
    assert section_name("nowhere") == "nowhere"
    assert section_name("") == ""


def test_factory_gives_district_roles_the_assistance_section_by_default(make_user):
    chief = make_user("科长", region="district")
    assert set(chief.section_roles.values_list("section__code", "role")) == {("assistance", "科长")}
    assert not make_user("社区经办人").section_roles.exists()
    several = make_user("科长", region="district", sections=["eldercare", "children"])
    assert user_section_codes(several) == {"eldercare", "children"}


# --- payment runs: recalculating and locking in the type's section --------------------------------------


@pytest.fixture
def dibao_run(db):
    """This month's 低保 run, calculated by the system (no actor, as the monthly job does)."""
    return services.payment_run_recalculate(benefit_type=BenefitType.objects.get(code="dibao"), month=MONTH)


@pytest.fixture
def eldercare_chief(make_user):
    return make_user("科长", region="district", sections=["eldercare"], display_name="养老科长")


@pytest.fixture
def assistance_chief(make_user):
    return make_user("科长", region="district", sections=["assistance"])


def test_other_section_chief_cannot_lock_or_recalculate(dibao_run, eldercare_chief):
    with pytest.raises(SectionRoleRequired, match=LOCK_REFUSAL):
        services.payment_run_lock(run=dibao_run, actor=eldercare_chief)
    with pytest.raises(SectionRoleRequired, match=RECALC_REFUSAL):
        services.payment_run_recalculate(
            benefit_type=dibao_run.benefit_type, month=MONTH, actor=eldercare_chief
        )
    with pytest.raises(SectionRoleRequired, match=RECALC_REFUSAL):
        services.payment_run_start_parts(
            benefit_type=dibao_run.benefit_type, month=MONTH, actor=eldercare_chief
        )
    with pytest.raises(BenefitsError, match=RECALC_REFUSAL):  # the task passes the actor on
        tasks.recalculate_run.delay("dibao", "2026-03", eldercare_chief.pk).get()
    assert not services.can_lock(dibao_run, eldercare_chief)
    assert not services.can_recalculate(dibao_run, eldercare_chief)
    dibao_run.refresh_from_db()
    assert dibao_run.status == PaymentRun.Status.DRAFT


def test_section_chief_locks_and_section_clerk_recalculates(dibao_run, assistance_chief, make_user):
    clerk = make_user("科室经办人", region="district", sections=["assistance"])
    assert services.can_recalculate(dibao_run, clerk) and not services.can_lock(dibao_run, clerk)
    services.payment_run_recalculate(benefit_type=dibao_run.benefit_type, month=MONTH, actor=clerk)
    assert services.can_lock(dibao_run, assistance_chief)
    locked = services.payment_run_lock(run=dibao_run, actor=assistance_chief)
    assert locked.status == PaymentRun.Status.LOCKED and locked.locked_by == assistance_chief


def test_a_clerk_of_the_section_cannot_lock_even_with_the_chief_group_elsewhere(dibao_run, make_user):
    user = make_user("科室经办人", "科长", region="district", sections=[])
    _grant(user, "assistance", "科室经办人")
    _grant(user, "eldercare", "科长")
    services.payment_run_recalculate(benefit_type=dibao_run.benefit_type, month=MONTH, actor=user)
    with pytest.raises(SectionRoleRequired, match=LOCK_REFUSAL):
        services.payment_run_lock(run=dibao_run, actor=user)


def test_the_monthly_job_runs_as_the_system(dibao_run):
    """No actor (Celery beat): no section to check, the run is drafted street by street."""
    started = tasks.recalculate_run_by_street("dibao", "2026-04")
    run = PaymentRun.objects.get(pk=started["run_id"])
    assert run.calculated_at is not None and run.calculated_by is None


def test_holiday_run_needs_the_section(db, eldercare_chief, assistance_chief):
    kwargs = dict(month=MONTH, title="2026年春节一次性生活补贴", household_amount=300)
    with pytest.raises(SectionRoleRequired, match=RECALC_REFUSAL):
        holiday_services.holiday_payment_run(actor=eldercare_chief, **kwargs)
    run = holiday_services.holiday_payment_run(actor=assistance_chief, **kwargs)
    assert run.kind == PaymentRun.Kind.ONE_OFF


def test_views_refuse_another_section_with_the_reason(client, dibao_run, eldercare_chief):
    client.force_login(eldercare_chief)
    detail = client.get(reverse("benefits:run_detail", args=[dibao_run.pk])).content.decode()
    assert "重新计算" not in detail and reverse("benefits:run_lock", args=[dibao_run.pk]) not in detail

    for method, name in (("get", "run_lock"), ("post", "run_lock"), ("post", "run_recalculate")):
        response = getattr(client, method)(reverse(f"benefits:{name}", args=[dibao_run.pk]))
        assert response.status_code == 403, name
        assert (LOCK_REFUSAL if name == "run_lock" else RECALC_REFUSAL) in response.content.decode()

    # the list page's form lets them pick 低保: the refusal comes back as a message
    response = client.post(
        reverse("benefits:run_create"), {"benefit_type": "dibao", "month": "2026-03"}, follow=True
    )
    assert RECALC_REFUSAL in response.content.decode()
    dibao_run.refresh_from_db()
    assert dibao_run.status == PaymentRun.Status.DRAFT


def test_views_let_the_section_chief_lock(client, dibao_run, assistance_chief):
    client.force_login(assistance_chief)
    detail = client.get(reverse("benefits:run_detail", args=[dibao_run.pk])).content.decode()
    assert reverse("benefits:run_lock", args=[dibao_run.pk]) in detail
    assert "确认锁定" in client.get(reverse("benefits:run_lock", args=[dibao_run.pk])).content.decode()
    client.post(reverse("benefits:run_lock", args=[dibao_run.pk]))
    dibao_run.refresh_from_db()
    assert dibao_run.status == PaymentRun.Status.LOCKED


# --- navigation --------------------------------------------------------------------------------------


def _groups(user) -> set[str]:
    return {group.key for group in navigation_for(user)}


def test_navigation_hides_other_sections_bureau_from_district_users(make_user, eldercare_chief):
    assert "assistance" not in _groups(eldercare_chief)
    assert {"workbench", "benefits"} <= _groups(eldercare_chief)  # groups of no section stay
    assert "assistance" in _groups(make_user("科长", region="district", sections=["assistance"]))
    assert "assistance" in _groups(make_user("科室经办人", region="district", sections=["assistance"]))
    assert "assistance" not in _groups(make_user("科室经办人", region="district", sections=[]))


def test_navigation_shows_every_bureau_to_general_roles(make_user, eldercare_chief):
    assert "assistance" in _groups(make_user("社区经办人"))
    assert "assistance" in _groups(make_user("街道审核员", region="street1"))
    assert "assistance" in _groups(make_user("局领导", region="district"))
    assert "assistance" in _groups(UserFactory(is_superuser=True))
    # a district role beside a general one: the general role sees every bureau
    assert "assistance" in _groups(make_user("社区经办人", "科长", region="district", sections=["eldercare"]))


def test_user_menu_names_the_sections(client, eldercare_chief):
    client.force_login(eldercare_chief)
    assert "业务科室：养老服务科科长" in client.get(reverse("workflow:todo")).content.decode()


# --- admin -------------------------------------------------------------------------------------------


def test_admin_inline_saves_a_section_role(client, make_user):
    root = UserFactory(is_superuser=True, is_staff=True)
    user = make_user("科长", region="district", sections=[])
    client.force_login(root)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    assert client.get(url).status_code == 200
    data = {
        "username": user.username,
        "display_name": user.display_name,
        "job_title": "",
        "phone": "",
        "email": "",
        "region": user.region_id,
        "groups": [Group.objects.get(name="科长").pk],
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": timezone.localtime(user.date_joined).strftime("%Y-%m-%d"),
        "date_joined_1": timezone.localtime(user.date_joined).strftime("%H:%M:%S"),
        "section_roles-TOTAL_FORMS": "1",
        "section_roles-INITIAL_FORMS": "0",
        "section_roles-MIN_NUM_FORMS": "0",
        "section_roles-MAX_NUM_FORMS": "1000",
        "section_roles-0-section": Section.objects.get(code="eldercare").pk,
        "section_roles-0-role": "科长",
        "section_roles-0-user": user.pk,
        "section_roles-0-id": "",
        "_save": "保存",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    role = SectionRole.objects.get(user=user)
    assert (role.section.code, role.role, role.created_by) == ("eldercare", "科长", root)
    assert has_section_role(user, "eldercare", "科长")

    # the same role in the same section twice is refused
    response = client.post(
        url,
        {
            **data,
            "section_roles-TOTAL_FORMS": "2",
            "section_roles-INITIAL_FORMS": "1",
            "section_roles-0-id": role.pk,
            "section_roles-1-section": Section.objects.get(code="eldercare").pk,
            "section_roles-1-role": "科长",
            "section_roles-1-user": user.pk,
            "section_roles-1-id": "",
        },
    )
    assert response.status_code == 200
    assert SectionRole.objects.filter(user=user).count() == 1

    sections_page = client.get(reverse("admin:accounts_section_changelist")).content.decode()
    assert "养老服务科" in sections_page


# --- demo data ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_users_hold_their_roles_in_sections():
    from django.core.management import call_command

    from core.accounts.models import User

    call_command("seed_demo", households=5, quiet_accounts=True)
    call_command("seed_demo", households=5, quiet_accounts=True)  # twice: no duplicate section role

    def held(username):
        return set(SectionRole.objects.filter(user__username=username).values_list("section__code", "role"))

    assert held("kezhang") == {("assistance", "科长")}
    assert held("keshi") == {("assistance", "科室经办人")}
    assert held("kezhang_yl") == {("eldercare", "科长")}
    assert held("lingdao") == set()
    assert BenefitType.objects.get(code="gaoling").section.code == "eldercare"
    assert BenefitType.objects.get(code="orphan").section.code == "children"
    elder_chief = User.objects.get(username="kezhang_yl")
    assert "assistance" not in _groups(elder_chief)
    assert "assistance" in _groups(User.objects.get(username="kezhang"))


@pytest.mark.django_db
def test_a_chief_of_another_section_sees_none_of_its_cases(client, make_user):
    from django.urls import reverse

    eldercare_chief = make_user("科长", region="district", sections=["eldercare"])
    client.force_login(eldercare_chief)
    response = client.get(reverse("assistance:dibao_list"))
    assert response.status_code == 403
    assert "您不在社会救助科工作，不能查看该科室的业务" in response.content.decode()
    # the section's own chief, a street reviewer and the 局领导 do
    for user in (
        make_user("科长", region="district"),
        make_user("街道审核员", region="street1"),
        make_user("局领导", region="district"),
    ):
        client.force_login(user)
        assert client.get(reverse("assistance:dibao_list")).status_code == 200
