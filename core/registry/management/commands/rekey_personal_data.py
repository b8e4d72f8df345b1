"""`manage.py rekey_personal_data`: re-encrypt ID numbers and bank accounts with the current keys and
recompute the ID-number search hashes (README "Keys and rotation").

Run it after putting a new key first in DJANGO_FIELD_ENCRYPTION_KEYS, a new DJANGO_SECRET_KEY (the old one
in DJANGO_SECRET_KEY_FALLBACKS) or a new DJANGO_PII_HASH_KEY (the old one in
DJANGO_PII_HASH_KEY_FALLBACKS); when it has finished, the old key can be removed. Each batch is its own
transaction, so the command can be stopped and run again; rows already under the current keys are written
again (harmless). History rows are re-encrypted too."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from core.facilities.models import Facility
from core.registry.crypto import pii_hash
from core.registry.models import Household, Person


def _targets():
    """(model, encrypted field, also rehash) for the rows and their history rows."""
    return [
        (Person, "id_number", True),
        (Person.history.model, "id_number", True),
        (Household, "bank_account", False),
        (Household.history.model, "bank_account", False),
        (Facility, "bank_account", False),  # a 供养机构's account (特困 集中供养 is paid to it)
        (Facility.history.model, "bank_account", False),
    ]


class Command(BaseCommand):
    help = "用当前密钥重新加密证件号码、银行账号并重算证件号码检索码（轮换密钥后运行）"

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=2000, help="每批处理的行数（默认 2000）")

    def handle(self, *args, batch: int, **options):
        for model, field, rehash in _targets():
            done = self._rekey(model, field, rehash, batch)
            self.stdout.write(
                f"{model._meta.verbose_name}（{model._meta.db_table}）：{done} 行已用当前密钥重写"
            )
        self.stdout.write(self.style.SUCCESS("完成：旧密钥现在可以从配置中移除"))

    def _rekey(self, model, field: str, rehash: bool, batch: int) -> int:
        pk = model._meta.pk.attname
        fields = [field, "id_number_hash"] if rehash else [field]
        manager = model._base_manager
        last = None
        done = 0
        while True:
            rows = manager.order_by(pk).only(pk, field)
            if last is not None:
                rows = rows.filter(**{f"{pk}__gt": last})
            with transaction.atomic():
                chunk = list(rows.select_for_update()[:batch])
                if not chunk:
                    return done
                for row in chunk:
                    if rehash:
                        row.id_number_hash = pii_hash(row.id_number)
                # bulk_update encrypts each value again with the first key (and writes the new hash).
                manager.bulk_update(chunk, fields)
            last = getattr(chunk[-1], pk)
            done += len(chunk)
