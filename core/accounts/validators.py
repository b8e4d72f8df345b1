import re

from django.core.exceptions import ValidationError


class MixedCharacterValidator:
    """密码须同时包含字母和数字（等保二级的常见要求）。"""

    def validate(self, password: str, user=None) -> None:
        if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
            raise ValidationError("密码必须同时包含字母和数字。", code="password_not_mixed")

    def get_help_text(self) -> str:
        return "密码必须同时包含字母和数字。"
