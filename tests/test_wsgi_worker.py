"""What a web worker does when gunicorn loads config.wsgi (core.memory.freeze_loaded_objects)."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_a_web_worker_loads_every_view_and_freezes_what_it_loaded():
    # When: a fresh process loads the WSGI application, as each gunicorn worker does
    probe = (
        "import gc, sys, config.wsgi; "
        "print(gc.get_freeze_count(), 'core.registry.views' in sys.modules, len(gc.get_objects()))"
    )
    result = subprocess.run(  # noqa: S603 — this interpreter, fixed code
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE},
        capture_output=True,
        text=True,
        check=True,
    )
    frozen, views_loaded, tracked = result.stdout.split()
    # Then: the view modules are imported before any request, and the objects loaded (modules, classes,
    # URL patterns: over a hundred thousand) are out of the collector's generations — only what is made
    # afterwards is tracked.
    assert views_loaded == "True"
    assert int(frozen) > 50_000
    assert int(tracked) < int(frozen) // 10
