# 监督电话 of a region (issue 13 item 14): printed on the 公示名单 and the 保障对象张榜名单.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_asset_limit_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="region",
            name="complaint_phone",
            field=models.CharField(
                blank=True,
                help_text="公示名单、保障对象张榜名单上公布的监督（投诉）电话；街道未设置的使用所属区县的电话",
                max_length=40,
                verbose_name="监督电话",
            ),
        ),
    ]
