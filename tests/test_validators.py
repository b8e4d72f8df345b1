"""Issue 12, item 10: passwords like the user name are refused (the name repeated, reversed or embedded,
not only a password close to it as a whole), and person names, addresses and account holders made only
of invisible characters (zero-width spaces, other format or space characters) are refused in Chinese."""

import datetime

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from core.accounts.models import User
from core.registry import services
from core.registry.choices import Relation
from core.registry.models import Person
from core.registry.text import only_invisible, strip_invisible
from tests.factories import household_with_members, valid_id_number

# ---------------------------------------------------------------------------------------------------
# Passwords
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "Sq0101Sq0101",  # repeated (similarity to the whole name stays under Django's 0.7)
        "Sq0101@2026x",  # embedded
        "Abc-SQ0101-9",  # embedded, other case
        "1010qsPass99",  # reversed
        "sq-0101-Pass9",  # split by punctuation
    ],
)
def test_password_containing_the_username_is_refused(password):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user=User(username="sq0101"))
    assert "密码不能包含用户名" in " ".join(refused.value.messages)


def test_password_like_the_display_name_is_refused():
    with pytest.raises(ValidationError):
        validate_password("zhangjianguo1", user=User(username="u9", display_name="zhangjianguo"))


def test_unrelated_strong_password_is_accepted():
    validate_password("Lvyuan-Minzheng2026", user=User(username="sq0101"))


def test_password_change_page_refuses_the_username(client, make_user):
    user = make_user("社区经办人", username="jd0101")
    user.set_password("Old-Passw0rd-2026")
    user.save()
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "Old-Passw0rd-2026",
            "new_password1": "Jd0101Jd0101",
            "new_password2": "Jd0101Jd0101",
        },
    )
    assert response.status_code == 200
    assert "密码不能包含用户名" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("Old-Passw0rd-2026")


# ---------------------------------------------------------------------------------------------------
# Invisible names
# ---------------------------------------------------------------------------------------------------

INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200b\u200c\u200d",  # zero-width space, non-joiner, joiner
    "\ufeff",  # byte order mark
    "\u2060\u180e",  # word joiner, Mongolian vowel separator
    "\u3164",  # Hangul filler
    "\u2800",  # Braille blank
    "\u200e\u202e",  # bidi marks
    " \u200b\u3000",  # spaces around a zero-width space
]


@pytest.mark.parametrize("text", INVISIBLE)
def test_only_invisible(text):
    assert only_invisible(text)


def test_visible_names_are_not_invisible():
    for text in ("张三", "阿依古丽·买买提", "José", "e\u0301"):
        assert not only_invisible(text)
    assert strip_invisible("\u200b张三\ufeff ") == "张三"
    assert strip_invisible("e\u0301") == "e\u0301"


@pytest.fixture
def actor(make_user):
    return make_user("社区经办人", region="community11")


def head(**overrides):
    data = {
        "name": "张三",
        "id_type": "ric",
        "id_number": valid_id_number(datetime.date(1975, 5, 20), male=True),
        "relation": Relation.HEAD,
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("text", INVISIBLE)
def test_register_refuses_an_invisible_person_name(actor, regions, text):
    with pytest.raises(ValidationError) as refused:
        services.household_register(
            region=regions["community11"], address="春城大街1号", members=[head(name=text)], actor=actor
        )
    assert refused.value.message_dict["members.0.name"] == ["姓名不能只由空格或零宽字符等不可见字符组成"]
    assert not Person.objects.exists()


def test_register_refuses_invisible_address_and_account_holder(actor, regions):
    with pytest.raises(ValidationError) as refused:
        services.household_register(
            region=regions["community11"],
            address="\u200b\u200b",
            account_holder="\ufeff",
            members=[head()],
            actor=actor,
        )
    errors = refused.value.message_dict
    assert errors["address"] == ["住址不能只由空格或零宽字符等不可见字符组成"]
    assert errors["account_holder"] == ["开户人不能只由空格或零宽字符等不可见字符组成"]


def test_register_strips_invisible_ends_of_a_name(actor, regions):
    household = services.household_register(
        region=regions["community11"],
        address="春城大街1号",
        members=[head(name="\u200b张三\u200b")],
        actor=actor,
    )
    assert household.head.name == "张三"


def test_corrections_refuse_invisible_names(actor, regions):
    household = household_with_members(regions["community11"], size=1)
    with pytest.raises(ValidationError) as refused:
        services.person_update(person=household.head, data={"name": "\u200b\u2060"}, actor=actor)
    assert refused.value.message_dict["name"] == ["姓名不能只由空格或零宽字符等不可见字符组成"]
    with pytest.raises(ValidationError) as refused:
        services.household_update(household=household, data={"address": "\u3164"}, actor=actor)
    assert refused.value.message_dict["address"] == ["住址不能只由空格或零宽字符等不可见字符组成"]
    household.head.refresh_from_db()
    assert household.head.name.strip()
