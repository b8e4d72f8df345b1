"""Load on the web tier, as a district office would produce it: person search by ID number, a household
page, the case list and the dashboard, logged in as a district user.

benchmarks/run.py starts it headless, bounded in time, against 127.0.0.1 only. BENCH_PAUSE is the pause
between a user's requests in seconds (1 = a busy office; 0 = saturation). BENCH_TARGETS is a JSON file
with the ID numbers and household ids to ask for and one logged-in session per user (written by run.py
from the benchmark database)."""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import HttpUser, constant, events, task

PAUSE = float(os.environ.get("BENCH_PAUSE", "1"))
with open(os.environ["BENCH_TARGETS"], encoding="utf-8") as f:
    TARGETS = json.load(f)
_SESSION_INDEX = itertools.count()


@events.test_start.add_listener
def _loopback_only(environment, **kwargs):
    host = environment.host or ""
    if not host.startswith(("http://127.0.0.1", "http://localhost")):
        raise SystemExit(f"refusing to load {host}: benchmarks target 127.0.0.1 only")


class DistrictUser(HttpUser):
    wait_time = constant(PAUSE)

    def on_start(self):
        # Logged in before the run (run.py makes one session per user through Django's session store):
        # 20 simultaneous PBKDF2 logins on 2 cores would otherwise fill the first seconds of the
        # measurement with password hashing, which is not what this measures.
        self.client.cookies.set(
            "sessionid", TARGETS["sessions"][next(_SESSION_INDEX) % len(TARGETS["sessions"])]
        )

    @task(3)
    def search_by_id(self):
        number = random.choice(TARGETS["id_numbers"])
        with self.client.get(f"/registry/search/?q={number}", name="search by ID", catch_response=True) as r:
            if r.status_code == 200 and number[-4:] not in r.text:
                r.failure("person not found")

    @task(3)
    def household(self):
        self.client.get(
            f"/registry/households/{random.choice(TARGETS['households'])}/", name="household page"
        )

    @task(2)
    def case_list(self):
        self.client.get("/workflow/cases/", name="case list")

    @task(2)
    def dashboard(self):
        self.client.get("/", name="dashboard")
