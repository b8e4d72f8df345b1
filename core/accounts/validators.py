import re

from django.core.exceptions import ValidationError


class MixedCharacterValidator:
    """密码须同时包含字母和数字（等保二级的常见要求）。"""

    def validate(self, password: str, user=None) -> None:
        if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
            raise ValidationError("密码必须同时包含字母和数字。", code="password_not_mixed")

    def get_help_text(self) -> str:
        return "密码必须同时包含字母和数字。"


class UsernameInPasswordValidator:
    """密码不得包含用户名（不区分大小写，含倒序、含夹杂的标点）。

    Django's UserAttributeSimilarityValidator compares the whole password with the user name, so the user
    name repeated ("Sq0101sq0101") or wrapped in other characters ("Sq0101@2026") passes it. User names
    shorter than `min_length` are not looked for (they would refuse too many passwords by chance)."""

    def __init__(self, min_length: int = 3):
        self.min_length = min_length

    def validate(self, password: str, user=None) -> None:
        username = (getattr(user, "username", "") or "").casefold()
        if len(username) < self.min_length:
            return
        folded = password.casefold()
        squeezed = re.sub(r"[\W_]+", "", folded)
        names = {username, re.sub(r"[\W_]+", "", username)} - {""}
        for text in (folded, squeezed):
            if any(name in text or name[::-1] in text for name in names if len(name) >= self.min_length):
                raise ValidationError("密码不能包含用户名（包括倒序）。", code="password_contains_username")

    def get_help_text(self) -> str:
        return "密码不能包含用户名（包括倒序）。"
