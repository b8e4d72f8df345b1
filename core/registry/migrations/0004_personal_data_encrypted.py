"""ID numbers and bank accounts encrypted at rest, found by a keyed hash (issue 12, item 12).

The rows, and their history rows, are encrypted in place in batches, with the keys of the settings this
migration runs under (core/registry/crypto.py). Reversible: the reverse decrypts them again."""

from django.db import migrations, models

import core.registry.crypto

BATCH = 5000

# (table, id column, encrypted column, hash column or None)
TARGETS = [
    ("registry_person", "id", "id_number", "id_number_hash"),
    ("registry_historicalperson", "history_id", "id_number", "id_number_hash"),
    ("registry_household", "id", "bank_account", None),
    ("registry_historicalhousehold", "history_id", "bank_account", None),
]


def _field():
    """An encrypted field with the running settings' keys (the models' own: the same class)."""
    field = core.registry.crypto.EncryptedCharField(max_length=32, blank=True)
    field.set_attributes_from_name("value")
    return field


def _convert(schema_editor, forward: bool) -> None:
    field = _field()
    connection = schema_editor.connection
    for table, key, column, hash_column in TARGETS:
        last = None
        while True:
            with connection.cursor() as cursor:
                where = f"WHERE {key} > %s" if last is not None else ""
                cursor.execute(
                    f"SELECT {key}, {column} FROM {table} {where} ORDER BY {key} LIMIT {BATCH}",  # noqa: S608
                    [last] if last is not None else [],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                changes = []
                for pk, value in rows:
                    if not value:
                        continue
                    if forward:
                        if value.startswith(core.registry.crypto.FERNET_PREFIX):
                            continue  # already encrypted (a partly run migration)
                        number = core.registry.crypto.normalise_id_number(value) if hash_column else value
                        changes.append((field.encrypt(number), core.registry.crypto.pii_hash(number), pk))
                    else:
                        changes.append((field.from_db_value(value, None, connection), None, pk))
                if not changes:
                    continue
                if hash_column and forward:
                    cursor.executemany(
                        f"UPDATE {table} SET {column} = %s, {hash_column} = %s WHERE {key} = %s",  # noqa: S608
                        changes,
                    )
                else:
                    cursor.executemany(
                        f"UPDATE {table} SET {column} = %s WHERE {key} = %s",  # noqa: S608
                        [(value, pk) for value, _hash, pk in changes],
                    )


def encrypt(apps, schema_editor):
    _convert(schema_editor, forward=True)


def decrypt(apps, schema_editor):
    _convert(schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_household_number_prefix_index"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="person", name="person_id_number_upper"),
        migrations.AddField(
            model_name="person",
            name="id_number_hash",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
        migrations.AddField(
            model_name="historicalperson",
            name="id_number_hash",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
        migrations.AlterField(
            model_name="person",
            name="id_number",
            field=core.registry.crypto.EncryptedCharField(max_length=32, verbose_name="证件号码"),
        ),
        migrations.AlterField(
            model_name="historicalperson",
            name="id_number",
            field=core.registry.crypto.EncryptedCharField(max_length=32, verbose_name="证件号码"),
        ),
        migrations.AlterField(
            model_name="household",
            name="bank_account",
            field=core.registry.crypto.EncryptedCharField(blank=True, max_length=32, verbose_name="银行账号"),
        ),
        migrations.AlterField(
            model_name="historicalhousehold",
            name="bank_account",
            field=core.registry.crypto.EncryptedCharField(blank=True, max_length=32, verbose_name="银行账号"),
        ),
        migrations.RunPython(encrypt, decrypt, elidable=False),
        migrations.AlterField(
            model_name="person",
            name="id_number_hash",
            field=core.registry.crypto.KeyedHashField(
                source="id_number", unique=True, verbose_name="证件号码检索码"
            ),
        ),
        migrations.AlterField(
            model_name="historicalperson",
            name="id_number_hash",
            field=core.registry.crypto.KeyedHashField(
                db_index=True, source="id_number", verbose_name="证件号码检索码"
            ),
        ),
    ]
