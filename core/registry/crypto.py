"""Personal data encrypted at rest (issue 12, item 12): ID numbers and bank accounts.

- **Encryption**: django-fernet-encrypted-fields (jazzband) — Fernet (AES-128-CBC + HMAC-SHA256) with keys
  derived from `SECRET_KEY` (and `SECRET_KEY_FALLBACKS`) and each of `SALT_KEY`
  (env `DJANGO_FIELD_ENCRYPTION_KEYS`, newest first). The database, its dumps and its WAL hold only
  ciphertext; the application decrypts when it reads a row.
- **Search**: a keyed hash (HMAC-SHA256 with `PII_HASH_KEY`, env `DJANGO_PII_HASH_KEY`) of the normalised
  ID number sits beside it, unique and indexed: exact search by ID number (the only search the product
  offers on it) is one index probe. `PII_HASH_KEY_FALLBACKS` keeps old hashes findable while a new hash
  key is rolled out by `manage.py rekey_personal_data`.
- Rotation, step by step: README.md "Keys and rotation".

Our field is stricter than the library's: a stored value that no key decrypts is an error that names the
setting to check, never shown as its ciphertext (the library would return the token unchanged); and the
encrypted column refuses lookups — ``filter(id_number=…)`` would compare with ciphertext and silently find
nothing, so it raises instead and the code must use :func:`id_number_q`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Q
from django.dispatch import receiver
from encrypted_fields.fields import EncryptedCharField as LibraryEncryptedCharField

FERNET_PREFIX = "gAAAAA"  # every Fernet token starts with version byte 0x80 then a 64-bit timestamp


def normalise_id_number(value: str | None) -> str:
    """How an ID number is stored and hashed: no spaces, upper case (the check character X)."""
    return (value or "").strip().replace(" ", "").upper()


def _hash_keys() -> list[str]:
    key = getattr(settings, "PII_HASH_KEY", "")
    if not key:
        raise ImproperlyConfigured("未设置 PII_HASH_KEY（环境变量 DJANGO_PII_HASH_KEY），无法按证件号码检索")
    return [key, *getattr(settings, "PII_HASH_KEY_FALLBACKS", [])]


def _keyed_hash(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def pii_hash(value: str | None) -> str:
    """The search hash of an ID number under the current key ("" for no number)."""
    number = normalise_id_number(value)
    return _keyed_hash(_hash_keys()[0], number) if number else ""


def pii_hashes(value: str | None) -> list[str]:
    """The hashes an ID number may be stored under: the current key's, then each fallback key's."""
    number = normalise_id_number(value)
    return [_keyed_hash(key, number) for key in _hash_keys()] if number else []


def id_number_q(value: str | None, prefix: str = "") -> Q:
    """Exact match on an ID number, through its keyed hash; `prefix` reaches a related person
    (``id_number_q(q, "household__head__")``). Matches nothing for an empty value."""
    hashes = pii_hashes(value)
    if not hashes:
        return Q(pk__in=[])
    if len(hashes) == 1:
        return Q(**{f"{prefix}id_number_hash": hashes[0]})
    return Q(**{f"{prefix}id_number_hash__in": hashes})


def pii_hasher() -> Callable[[str], str]:
    """`pii_hash` for a loader hashing a million normalised numbers: the HMAC keyed once and copied per
    value (the same digest, a third of the time). The values must already be normalised."""
    keyed = hmac.new(_hash_keys()[0].encode(), digestmod=hashlib.sha256)

    def digest(number: str) -> str:
        h = keyed.copy()
        h.update(number.encode())
        return h.hexdigest()

    return digest


class EncryptedCharField(LibraryEncryptedCharField):
    """A CharField stored encrypted (a text column). Blank stays blank (not NULL), a value no key opens
    raises, and lookups other than isnull are refused (see the module docstring)."""

    def get_prep_value(self, value):
        if value in (None, ""):
            return "" if not self.null else value
        return super().get_prep_value(value)

    def _label(self) -> str:
        model = getattr(self, "model", None)
        return f"{model.__name__}.{self.name}" if model is not None else self.name

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        if not value.startswith(FERNET_PREFIX):
            raise ImproperlyConfigured(
                f"{self._label()} 中有未加密的数据：请先运行迁移 "
                "（manage.py migrate）或 manage.py rekey_personal_data"
            )
        try:
            return self.f.decrypt(value.encode()).decode()
        except InvalidToken:
            raise ImproperlyConfigured(
                f"{self._label()} 无法解密：DJANGO_SECRET_KEY 或 DJANGO_FIELD_ENCRYPTION_KEYS "
                "与加密数据时的不一致（轮换密钥时，旧密钥应保留在 DJANGO_SECRET_KEY_FALLBACKS 或 "
                "DJANGO_FIELD_ENCRYPTION_KEYS 的后面）"
            ) from None

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None  # Django raises FieldError "Unsupported lookup …": use id_number_q / the hash

    def get_transform(self, lookup_name):
        return None

    def encrypt(self, value: str) -> str:
        """The stored form of a value (for loaders that write rows with COPY): what get_prep_value
        stores, by the same Fernet — without the library's first step, to_python, which tries to
        decrypt every plain value and fails (~10 µs of a ~25 µs call; a loader encrypts 1.4 million)."""
        if value in (None, ""):
            return "" if not self.null else value
        return self.f.encrypt(str(value).encode()).decode()


class KeyedHashField(models.CharField):
    """The keyed hash of another field of the same row, computed on every save and bulk insert (never
    typed in). Blank when the source is blank."""

    def __init__(self, *args, source: str = "", **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if kwargs.get("max_length") == 64:
            del kwargs["max_length"]
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = pii_hash(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


@receiver(setting_changed)
def _forget_keys(*, setting, **kwargs) -> None:
    """The library derives each field's keys once (PBKDF2) and keeps them; derive them again when a key
    setting changes (tests that rotate keys with override_settings)."""
    if setting not in ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "SALT_KEY"):
        return
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, LibraryEncryptedCharField):
                field.__dict__.pop("keys", None)
                field.__dict__.pop("f", None)
