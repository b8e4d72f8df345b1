"""ID numbers and bank accounts encrypted at rest, found by a keyed hash (issue 12, item 12):
core/registry/crypto.py, migration registry 0004, `manage.py rekey_personal_data`."""

import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from core.registry import selectors, services
from core.registry.choices import Relation
from core.registry.crypto import FERNET_PREFIX, id_number_q, pii_hash
from core.registry.models import Household, Person
from tests.factories import household_with_members, valid_id_number
from tests.production import production_env

CASEWORKER = "社区经办人"


def raw(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def member(id_number: str, name: str = "张三", relation=Relation.HEAD):
    return {
        "name": name,
        "id_type": "ric",
        "id_number": id_number,
        "relation": relation,
    }


@pytest.fixture
def registered(make_user, regions):
    actor = make_user(CASEWORKER, region="community11")
    number = valid_id_number()
    household = services.household_register(
        region=regions["community11"],
        address="绿园区青年路 1 号",
        bank_name="中国农业银行",
        bank_account="6228480012345678901",
        members=[member(number)],
        actor=actor,
    )
    return actor, household, number


def test_database_holds_no_plaintext_id_number_or_account(registered):
    actor, household, number = registered
    household.bank_account = "6228480012345678902"
    household.save()  # a history row with the new account as well
    for table, column in (
        ("registry_person", "id_number"),
        ("registry_historicalperson", "id_number"),
        ("registry_household", "bank_account"),
        ("registry_historicalhousehold", "bank_account"),
    ):
        values = [value for (value,) in raw(f"SELECT {column} FROM {table}")]  # noqa: S608
        assert values, table
        for value in values:
            assert value.startswith("gAAAAA"), (table, value)
            assert number not in value and "62284800123456789" not in value
    (stored_hash,) = raw("SELECT id_number_hash FROM registry_person")[0]
    assert stored_hash == pii_hash(number) and number not in stored_hash
    # The application reads the plain values.
    person = Person.objects.get(pk=household.head_id)
    assert person.id_number == number
    assert Household.objects.get(pk=household.pk).bank_account == "6228480012345678902"


def test_search_by_full_id_number_finds_the_person_through_the_hash(registered):
    actor, household, number = registered
    result = selectors.people_search(actor, number)
    assert [p.pk for p in result.persons] == [household.head_id]
    # Lower-case check character and spaces: the same person.
    if number.endswith("X"):
        assert [p.pk for p in selectors.people_search(actor, number.lower()).persons] == [household.head_id]
    assert [p.pk for p in selectors.people_search(actor, f" {number[:6]} {number[6:]}").persons] == [
        household.head_id
    ]
    # A part of the number finds nobody (it is not stored in the clear).
    assert selectors.people_search(actor, number[:17]).persons == []
    assert Person.objects.filter(id_number_q(number)).get().pk == household.head_id


def test_encrypted_column_refuses_lookups_instead_of_finding_nothing(registered):
    _actor, _household, number = registered
    with pytest.raises(FieldError):
        Person.objects.filter(id_number=number).exists()
    with pytest.raises(FieldError):
        Household.objects.filter(bank_account__startswith="62").exists()


def test_the_same_number_twice_is_refused_by_the_hash(registered, make_user, regions):
    actor, household, number = registered
    with pytest.raises(ValidationError) as excinfo:
        services.household_register(
            region=regions["community11"], address="另一处", members=[member(number.lower())], actor=actor
        )
    assert "请先办理迁出" in str(excinfo.value)
    # The database refuses it as well, whatever the service does.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(name="重复", id_number=number, sex="M", birth_date="1980-01-01")


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_number_make_one_person(make_user, regions):
    if connection.vendor != "postgresql":
        pytest.skip("needs a server database")
    actor = make_user(CASEWORKER, region="community11")
    number = valid_id_number()
    done, errors = [], []
    barrier = threading.Barrier(4)

    def run():
        try:
            barrier.wait()
            services.household_register(
                region=regions["community11"], address="青年路", members=[member(number)], actor=actor
            )
            done.append(1)
        except ValidationError as exc:
            errors.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 1 and len(errors) == 3
    assert all("已" in e for e in errors)
    assert Person.objects.filter(id_number_q(number)).count() == 1


def test_a_wrong_key_is_a_clear_error_not_ciphertext_on_screen(registered):
    _actor, household, _number = registered
    with (
        override_settings(SALT_KEY=["another-key-that-never-encrypted-anything"]),
        pytest.raises(ImproperlyConfigured, match="无法解密"),
    ):
        Person.objects.get(pk=household.head_id)
    assert Person.objects.get(pk=household.head_id).name == "张三"


def test_rotating_the_encryption_key(registered):
    _actor, household, number = registered
    before = raw("SELECT id_number FROM registry_person WHERE id = %s", [household.head_id])[0][0]
    old = settings.SALT_KEY
    with override_settings(SALT_KEY=["the-new-field-key-0123456789abcdef", *old]):
        assert Person.objects.get(pk=household.head_id).id_number == number  # old rows still read
        call_command("rekey_personal_data", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    after = raw("SELECT id_number FROM registry_person WHERE id = %s", [household.head_id])[0][0]
    assert after != before
    # The old key is gone from the configuration: everything was rewritten under the new one.
    with override_settings(SALT_KEY=["the-new-field-key-0123456789abcdef"]):
        assert Person.objects.get(pk=household.head_id).id_number == number
        assert Household.objects.get(pk=household.pk).bank_account == "6228480012345678901"
        for history in Person.history.model.objects.all():
            assert history.id_number


def test_rotating_the_hash_key(registered):
    actor, household, number = registered
    old = settings.PII_HASH_KEY
    with override_settings(PII_HASH_KEY="the-new-hash-key-0123456789abcdef", PII_HASH_KEY_FALLBACKS=[old]):
        # Before the rekey, rows still carry the old hash: found through the fallback.
        assert [p.pk for p in selectors.people_search(actor, number).persons] == [household.head_id]
        call_command("rekey_personal_data", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    with override_settings(PII_HASH_KEY="the-new-hash-key-0123456789abcdef", PII_HASH_KEY_FALLBACKS=[]):
        assert [p.pk for p in selectors.people_search(actor, number).persons] == [household.head_id]
        assert Person.objects.get(pk=household.head_id).id_number_hash == pii_hash(number)


@pytest.mark.django_db(transaction=True)
def test_migration_encrypts_existing_rows_and_reverses(regions):
    household = household_with_members(regions["community11"], size=1)
    number = Person.objects.get(pk=household.head_id).id_number
    executor = MigrationExecutor(connection)
    executor.migrate([("registry", "0003_household_number_prefix_index")])
    try:
        # The clear columns of before, as a deployment of the previous version holds them.
        plain = raw("SELECT id_number FROM registry_person WHERE id = %s", [household.head_id])[0][0]
        assert plain == number
        raw(
            "UPDATE registry_household SET bank_account = %s WHERE id = %s",
            ["6228480099999999999", household.pk],
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    stored, digest = raw(
        "SELECT id_number, id_number_hash FROM registry_person WHERE id = %s", [household.head_id]
    )[0]
    assert stored.startswith("gAAAAA") and digest == pii_hash(number)
    assert raw("SELECT bank_account FROM registry_household WHERE id = %s", [household.pk])[0][0].startswith(
        "gAAAAA"
    )
    assert Person.objects.get(pk=household.head_id).id_number == number
    assert Household.objects.get(pk=household.pk).bank_account == "6228480099999999999"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DJANGO_FIELD_ENCRYPTION_KEYS", "", "DJANGO_FIELD_ENCRYPTION_KEYS 不可用：未设置"),
        ("DJANGO_FIELD_ENCRYPTION_KEYS", "short-key", "DJANGO_FIELD_ENCRYPTION_KEYS 不可用：长度为 9"),
        ("DJANGO_PII_HASH_KEY", "", "DJANGO_PII_HASH_KEY 不可用：未设置"),
        ("DJANGO_PII_HASH_KEY", "ab" * 20, "DJANGO_PII_HASH_KEY 不可用：只含 2 种"),
    ],
)
def test_production_refuses_missing_or_weak_data_keys(name, value, message):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env=production_env(**{name: value}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_admin_finds_a_person_and_an_entitlement_by_full_id_number(registered, make_user, client):
    _actor, household, number = registered
    other = household_with_members(household.region, size=1)
    client.force_login(make_user(region=None, is_staff=True, is_superuser=True, username="root"))
    from django.urls import reverse

    page = client.get(reverse("admin:registry_person_changelist"), {"q": number})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [Person.objects.get(pk=household.head_id)]
    assert other.head not in page.context["cl"].result_list
    # Names still search as before; the ID number is shown masked in the list.
    page = client.get(reverse("admin:registry_person_changelist"), {"q": "张三"})
    assert household.head_id in [p.pk for p in page.context["cl"].result_list]
    assert number not in page.content.decode()
    page = client.get(reverse("admin:benefits_entitlement_changelist"), {"q": number})
    assert page.status_code == 200


def test_encrypt_for_loaders_stores_what_get_prep_value_stores():
    # The field's encrypt (generate_city, the 0004 migration) skips the library's attempt to decrypt the
    # plain value first; what it stores reads back as get_prep_value's token does.
    for field in (Person._meta.get_field("id_number"), Household._meta.get_field("bank_account")):
        for value in ("220150198001010011", "6212345678901234567"):
            token = field.encrypt(value)
            assert token.startswith(FERNET_PREFIX)
            assert field.from_db_value(token, None, connection) == value
            assert field.from_db_value(field.get_prep_value(value), None, connection) == value
        assert field.encrypt("") == field.get_prep_value("") == ""
