"""The layering of the code base (README "Architecture in one screen"), read from the import statements.

Floors, lowest first: core/accounts (users, roles, scope) → core/registry → core/workflow → core/benefits →
core/portal (home dashboard, seed_demo), then the bureau apps. A module may import downwards only. Every
import counts, also one inside a function or under `if TYPE_CHECKING:` — a lazy import is still a circle.
Migrations are left out (they are history)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
CORE = BASE_DIR / "core"

# Bureau apps planned on the core (README) beside those installed today.
PLANNED_BUREAUS = {"eldercare", "children", "social_orgs", "funeral", "marriage"}


def module_name(path: Path, root: Path = BASE_DIR) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path = BASE_DIR) -> set[str]:
    """Every module `path` imports, absolute: `from .models import Case` in core/workflow/engine.py gives
    core.workflow.models and core.workflow.models.Case; `from . import tasks` in reports/services.py
    gives reports and reports.tasks."""
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def python_files(root: Path):
    for path in sorted(root.rglob("*.py")):
        if "migrations" not in path.relative_to(BASE_DIR).parts:
            yield path


def violations(paths, forbidden: set[str]) -> list[str]:
    found = []
    for path in paths:
        for module in sorted(imported_modules(path)):
            if any(module == name or module.startswith(name + ".") for name in forbidden):
                found.append(f"{path.relative_to(BASE_DIR)} imports {module}")
    return found


def bureau_apps() -> set[str]:
    """Every installed app of this repository outside core/ (assistance, reports, …)."""
    names = set(PLANNED_BUREAUS)
    for config in apps.get_app_configs():
        top = config.name.split(".")[0]
        # An app of this repository: its top package is a folder of the project (not in site-packages).
        if top != "core" and Path(config.path).resolve().is_relative_to((BASE_DIR / top).resolve()):
            names.add(top)
    return names


def test_the_import_reader_sees_lazy_relative_and_type_checking_imports(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = package / "engine.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .models import Case\n"
        "def guard():\n    from . import tasks\n    import other.thing\n"
    )
    found = imported_modules(module, root=tmp_path)
    assert {"pkg.models", "pkg.models.Case", "pkg.tasks", "other.thing"} <= found


def test_bureau_apps_are_found():
    assert {"assistance", "reports"} <= bureau_apps()
    assert not any(name.startswith("core") for name in bureau_apps())


def test_accounts_is_the_bottom_floor():
    """Users, roles and scope import no services, no case engine, no benefits, no portal, no bureau."""
    forbidden = {"core.registry.services", "core.workflow", "core.benefits", "core.portal"} | bureau_apps()
    assert violations(python_files(CORE / "accounts"), forbidden) == []


def test_the_portal_is_the_top_floor_of_core():
    """The dashboard and seed_demo may use every core app; no other core app uses them."""
    others = [p for p in python_files(CORE) if "portal" not in p.relative_to(CORE).parts[:1]]
    assert violations(others, {"core.portal"}) == []


def test_core_imports_no_bureau():
    assert violations(python_files(CORE), bureau_apps()) == []


@pytest.mark.parametrize(
    ("module", "must_not_import"),
    [
        # models.py imports the engine (Case.type_def); guards that read models live in guards.py.
        ("core/workflow/engine.py", "core.workflow.models"),
        # tasks.py imports services; services enqueue the task by its name.
        ("reports/services.py", "reports.tasks"),
    ],
)
def test_no_import_circle(module, must_not_import):
    assert violations([BASE_DIR / module], {must_not_import}) == []
