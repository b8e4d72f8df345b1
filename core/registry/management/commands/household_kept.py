"""`manage.py household_kept [--fix]`: check each household's kept columns (在册人数 and 户主姓名, kept by
database triggers: core/registry/household_kept.py) against its people, and with `--fix` put right those
that disagree — after a restore, or a load that skipped the triggers. Exits 1 when some disagree and were
not fixed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.registry import household_kept


class Command(BaseCommand):
    help = "核对家庭的在册人数和户主姓名（数据库触发器维护）；--fix 修正不一致的家庭"

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="修正不一致的家庭")

    def handle(self, *args, fix: bool = False, **options):
        if fix:
            fixed = household_kept.refill()
            self.stdout.write(
                f"已修正 {fixed} 户的在册人数/户主姓名。" if fixed else "全部家庭一致，无需修正。"
            )
            return
        wrong = household_kept.mismatches(limit=20)
        if not wrong:
            self.stdout.write("全部家庭的在册人数和户主姓名与人员信息一致。")
            return
        for pk, kept, counted, kept_head, head in wrong:
            parts = [f"在册人数 {kept}（应为 {counted}）"] if kept != counted else []
            parts += [f"户主姓名 “{kept_head}”（应为 “{head}”）"] if kept_head != head else []
            self.stdout.write(f"家庭 {pk}：{'，'.join(parts)}")
        raise CommandError("有家庭的在册人数或户主姓名不一致（以上列出至多 20 户）；用 --fix 修正。")
