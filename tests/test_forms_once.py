"""Idempotent creates (issue 10 part 3, issue 12 item 8): a token per rendered form saves a form once;
concurrent household registrations of the same person or number end in a form error, never a 500."""

import datetime
import re
import threading
import time

import pytest
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistance.holiday import views as holiday_views
from core.accounts.models import SubmittedForm
from core.benefits import views as benefits_views
from core.forms_once import (
    ALREADY_SUBMITTED_MESSAGE,
    FORM_TOKEN_FIELD,
    new_form_token,
    purge_expired_form_tokens,
)
from core.registry import views as registry_views
from core.registry.crypto import id_number_q
from core.registry.models import Household, HouseholdSequence, IncomeRecord, Person
from reports import views as reports_views
from tests.factories import HouseholdFactory, household_with_members, valid_id_number

CASEWORKER = "社区经办人"
TOKEN_INPUT = re.compile(r'<input type="hidden" name="form_token" value="([A-Za-z0-9_-]+)">')
INCOME = {"kind": "wage", "monthly_amount": "1200", "period_start": "2024-01-01"}


def _token(html: str) -> str:
    tokens = TOKEN_INPUT.findall(html)
    assert len(tokens) == 1, "the form carries exactly one token"
    return tokens[0]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _in_threads(*calls):
    """Run each call in its own thread, released together; returns their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # the test asserts on it: an exception here is a 500
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    return threads, results


def _wait_for_lock_waiters(count: int, timeout: float = 15.0) -> None:
    """Until `count` other sessions of this database wait for a lock (a row or a unique-index entry)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # Inside a transaction the statistics views are a snapshot taken once: take a new one.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"{count} sessions never waited for a lock")


@pytest.fixture
def caseworker(make_user):
    return make_user(CASEWORKER, region="community11")


@pytest.fixture
def household(regions):
    return household_with_members(regions["community11"], size=2)


# ------------------------------------------------------------------------------------------------- tokens


@pytest.mark.django_db
def test_double_submit_of_the_income_form_saves_once_and_answers_with_the_first_result(
    client, caseworker, household
):
    # Given the income form as rendered, with its token
    client.force_login(caseworker)
    url = reverse("registry:income_add", args=[household.pk])
    token = _token(client.get(url).content.decode())

    # When it is submitted twice (a double click, or the browser's resend)
    first = client.post(url, {**INCOME, FORM_TOKEN_FIELD: token})
    second = client.post(url, {**INCOME, FORM_TOKEN_FIELD: token})

    # Then one record, and the second answer leads to the first one's result, saying why
    assert first.status_code == 302 and second.status_code == 302
    assert second["Location"] == first["Location"]
    assert IncomeRecord.objects.filter(household=household).count() == 1
    assert ALREADY_SUBMITTED_MESSAGE in [str(m) for m in get_messages(second.wsgi_request)]
    page = client.get(second["Location"]).content.decode()
    assert ALREADY_SUBMITTED_MESSAGE in page


@pytest.mark.django_db
def test_form_errors_do_not_use_up_the_token(client, caseworker, household):
    client.force_login(caseworker)
    url = reverse("registry:income_add", args=[household.pk])
    token = _token(client.get(url).content.decode())

    wrong = client.post(url, {**INCOME, "monthly_amount": "-5", FORM_TOKEN_FIELD: token})
    assert wrong.status_code == 400
    assert not SubmittedForm.objects.exists()
    assert _token(wrong.content.decode()) != token  # the page shown again carries a fresh one

    corrected = client.post(url, {**INCOME, FORM_TOKEN_FIELD: token})
    assert corrected.status_code == 302
    assert ALREADY_SUBMITTED_MESSAGE not in [str(m) for m in get_messages(corrected.wsgi_request)]
    assert IncomeRecord.objects.filter(household=household).count() == 1
    submitted = SubmittedForm.objects.get()
    assert submitted.user == caseworker and submitted.result_url == corrected["Location"]


@pytest.mark.django_db
def test_a_token_is_per_user(client, make_user, caseworker, household):
    colleague = make_user(CASEWORKER, region="community11")
    url = reverse("registry:income_add", args=[household.pk])
    token = new_form_token()
    assert _client(caseworker).post(url, {**INCOME, FORM_TOKEN_FIELD: token}).status_code == 302

    # Another user's POST with the same token is theirs: it runs normally
    response = _client(colleague).post(url, {**INCOME, FORM_TOKEN_FIELD: token})
    assert response.status_code == 302
    assert ALREADY_SUBMITTED_MESSAGE not in [str(m) for m in get_messages(response.wsgi_request)]
    assert IncomeRecord.objects.filter(household=household).count() == 2
    assert SubmittedForm.objects.filter(token=token).count() == 2


@pytest.mark.django_db
def test_a_post_without_token_runs_as_before(client, caseworker, household):
    client.force_login(caseworker)
    url = reverse("registry:income_add", args=[household.pk])
    assert client.post(url, INCOME).status_code == 302
    assert client.post(url, INCOME).status_code == 302
    assert IncomeRecord.objects.filter(household=household).count() == 2
    assert not SubmittedForm.objects.exists()


@pytest.mark.django_db
def test_household_registration_submitted_twice_registers_once(client, caseworker, regions):
    client.force_login(caseworker)
    url = reverse("registry:household_create")
    token = _token(client.get(url).content.decode())
    data = {**_household_data(regions, valid_id_number()), FORM_TOKEN_FIELD: token}

    first = client.post(url, data)
    second = client.post(url, data)

    household = Household.objects.get()
    assert (
        first["Location"] == second["Location"] == reverse("registry:household_detail", args=[household.pk])
    )


@pytest.mark.django_db
def test_expired_tokens_are_purged(caseworker):
    now = timezone.now()
    old = SubmittedForm.objects.create(user=caseworker, token=new_form_token())
    SubmittedForm.objects.filter(pk=old.pk).update(created_at=now - datetime.timedelta(days=2, minutes=1))
    recent = SubmittedForm.objects.create(user=caseworker, token=new_form_token())
    assert purge_expired_form_tokens(now=now) == 1
    assert list(SubmittedForm.objects.all()) == [recent]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "household_create",
        "member_add",
        "income_add",
        "asset_add",
        "person_marital",
        "person_move",
        "attachment_upload",
    ],
)
def test_every_registry_create_page_carries_a_token(client, caseworker, household, name):
    client.force_login(caseworker)
    args = {
        "household_create": [],
        "member_add": [household.pk],
        "income_add": [household.pk],
        "asset_add": [household.pk],
        "person_marital": [household.head_id],
        "person_move": [household.head_id],
        "attachment_upload": ["household", household.pk],
    }[name]
    response = client.get(reverse(f"registry:{name}", args=args))
    assert response.status_code == 200
    _token(response.content.decode())


@pytest.mark.parametrize(
    "view",
    [
        registry_views.household_create,
        registry_views.member_add,
        registry_views.income_add,
        registry_views.asset_add,
        registry_views.person_death,
        registry_views.person_marital,
        registry_views.person_move,
        registry_views.attachment_upload,
        benefits_views.run_create,
        reports_views.job_request,
        holiday_views.holiday_payment,
    ],
    ids=lambda view: view.__name__,
)
def test_every_create_view_saves_once_per_form(view):
    assert getattr(view, "once_per_form", False)


# ------------------------------------------------------------------------------------------------- concurrency


@pytest.mark.django_db(transaction=True)
def test_two_identical_posts_at_once_create_one_record(caseworker, household):
    # Given one rendered income form, posted by two connections of the same user at the same moment
    url = reverse("registry:income_add", args=[household.pk])
    first, second = _client(caseworker), _client(caseworker)
    token = _token(first.get(url).content.decode())
    data = {**INCOME, FORM_TOKEN_FIELD: token}

    threads, results = _in_threads(lambda: first.post(url, data), lambda: second.post(url, data))
    for thread in threads:
        thread.join(timeout=30)

    # Then one record; both answers are the first one's result
    assert not any(isinstance(r, BaseException) for r in results), results
    assert [r.status_code for r in results] == [302, 302]
    assert results[0]["Location"] == results[1]["Location"]
    assert IncomeRecord.objects.filter(household=household).count() == 1
    messages = [str(m) for r in results for m in get_messages(r.wsgi_request)]
    assert messages.count(ALREADY_SUBMITTED_MESSAGE) == 1


def _household_data(regions, id_number: str) -> dict[str, str]:
    member = {
        "name": "赵敏",
        "relation": "head",
        "id_type": "ric",
        "id_number": id_number,
        "birth_date": "",
        "sex": "",
        "marital_status": "unmarried",
        "self_care": "full",
        "labour_capacity": "full",
    }
    return {
        "region": str(regions["community11"].pk),
        "address": "春城大街8号",
        "members-TOTAL_FORMS": "1",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "1000",
        **{f"members-0-{k}": v for k, v in member.items()},
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_the_same_person_give_a_form_error(caseworker, regions):
    # Given two caseworker windows registering a household with the same member, each form its own token
    url = reverse("registry:household_create")
    first, second = _client(caseworker), _client(caseworker)
    id_number = valid_id_number(datetime.date(1980, 1, 2), male=False)
    tokens = [_token(c.get(url).content.decode()) for c in (first, second)]
    data = [{**_household_data(regions, id_number), FORM_TOKEN_FIELD: t} for t in tokens]
    posts = [lambda: first.post(url, data[0]), lambda: second.post(url, data[1])]
    code = regions["community11"].code
    HouseholdSequence.objects.get_or_create(region_code=code)

    # When both have checked that the number is free and wait for the community's 户编号 sequence
    with transaction.atomic():
        HouseholdSequence.objects.select_for_update().get(region_code=code)
        threads, results = _in_threads(*posts)
        _wait_for_lock_waiters(2)
    for thread in threads:
        thread.join(timeout=30)

    # Then one registers the household, the other is told beside the ID number, and nothing is a 500
    assert not any(isinstance(r, BaseException) for r in results), results
    assert sorted(r.status_code for r in results) == [302, 400]
    refused = next(r for r in results if r.status_code == 400).content.decode()
    household = Household.objects.get()
    assert f"该人员已在家庭 {household.number} 中，请先办理迁出" in refused
    assert Person.objects.filter(id_number_q(id_number)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_household_number_taken_at_the_same_moment_gives_a_form_error(client, caseworker, regions):
    # Given a household written outside the registration service (an import) with the number the
    # community's sequence will hand out next, not yet committed
    url = reverse("registry:household_create")
    community = regions["community11"]
    number = f"{community.code}000001"
    worker = _client(caseworker)
    data = _household_data(regions, valid_id_number())

    with transaction.atomic():
        HouseholdFactory(number=number, region=community, region_code=community.code)
        threads, results = _in_threads(lambda: worker.post(url, data))
        _wait_for_lock_waiters(1)  # the registration's INSERT waits on the unique index
    threads[0].join(timeout=30)

    (response,) = results
    assert not isinstance(response, BaseException), response
    assert response.status_code == 400
    assert f"户编号 {number} 刚被占用，请重新提交" in response.content.decode()
    assert Household.objects.count() == 1
