# 临时救助 for a person without a household in the district (issue 13 item 10, 急难发生地): the case's
# household becomes optional and the case records the place of the emergency.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0010_dibao_amount_bases"),
        ("registry", "0008_region_complaint_phone"),
    ]

    operations = [
        migrations.AddField(
            model_name="tempassistancecase",
            name="emergency_address",
            field=models.CharField(blank=True, max_length=200, verbose_name="急难发生地"),
        ),
        migrations.AlterField(
            model_name="tempassistancecase",
            name="household",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.household",
                verbose_name="申请家庭",
            ),
        ),
    ]
