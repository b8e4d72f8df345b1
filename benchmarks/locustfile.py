"""Load on the web tier, as a district office would produce it (issue 14 item 6, the web as used): the
household list (any page, sorted by 户主 or 人数, searched by a surname), person search by ID number and by a
one-character name, a household page with several bureaus' data, the case list with 5,000 open cases, the
两项补贴 monthly comparison, the run-lines page of the city's 低保 run (~90,000 lines; the district's part)
and the dashboard — logged in as a district user.

benchmarks/run.py starts it headless, bounded in time, against 127.0.0.1 only. BENCH_PAUSE is the pause
between a user's requests in seconds (1 = a busy office; 0 = saturation). BENCH_WARMUP (seconds, default 0):
the statistics are reset that long after the start, so the figures leave out the warm-up (workers'
first requests, the spawn). BENCH_TARGETS is a JSON file with the ID numbers and household ids to ask for,
the run to show and one logged-in session per user (written by run.py from the benchmark database)."""

from __future__ import annotations

import itertools
import json
import os
import random

import gevent
from locust import HttpUser, constant, events, task

PAUSE = float(os.environ.get("BENCH_PAUSE", "1"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "0"))
with open(os.environ["BENCH_TARGETS"], encoding="utf-8") as f:
    TARGETS = json.load(f)
_SESSION_INDEX = itertools.count()
# One-character names (common surnames, a rare one, characters of given names: generate_city's tables).
NAME_CHARS = ["王", "李", "张", "刘", "覃", "伟", "芳", "莹", "国", "汤"]
HOUSEHOLD_LISTS = [
    "",
    "?page=2",
    "?page=50",
    "?page=400",
    "?page=700",
    "?sort=head",
    "?sort=head&page=300",
    "?sort=-members",
    "?sort=members&page=200",
    "?q=王",
    "?q=李&page=3",
]


@events.test_start.add_listener
def _loopback_only(environment, **kwargs):
    host = environment.host or ""
    if not host.startswith(("http://127.0.0.1", "http://localhost")):
        raise SystemExit(f"refusing to load {host}: benchmarks target 127.0.0.1 only")
    if WARMUP > 0:
        gevent.spawn_later(WARMUP, environment.stats.reset_all)


class DistrictUser(HttpUser):
    wait_time = constant(PAUSE)

    def on_start(self):
        # Logged in before the run (run.py makes one session per user through Django's session store):
        # simultaneous PBKDF2 logins on 2 cores would otherwise fill the first seconds of the measurement
        # with password hashing, which is not what this measures.
        self.client.cookies.set(
            "sessionid", TARGETS["sessions"][next(_SESSION_INDEX) % len(TARGETS["sessions"])]
        )

    def _get(self, url: str, name: str, text: str) -> None:
        with self.client.get(url, name=name, catch_response=True) as r:
            if r.status_code == 200 and text not in r.text:
                r.failure(f"answer without {text!r}")

    @task(3)
    def search_by_id(self):
        number = random.choice(TARGETS["id_numbers"])
        with self.client.get(f"/registry/search/?q={number}", name="search by ID", catch_response=True) as r:
            if r.status_code == 200 and number[-4:] not in r.text:
                r.failure("person not found")

    @task(2)
    def search_by_name(self):
        self._get(f"/registry/search/?q={random.choice(NAME_CHARS)}", "search by one character", "人员查询")

    @task(3)
    def household(self):
        self._get(f"/registry/households/{random.choice(TARGETS['households'])}/", "household page", "家庭")

    @task(2)
    def household_list(self):
        self._get(f"/registry/households/{random.choice(HOUSEHOLD_LISTS)}", "household list", "家庭档案")

    @task(2)
    def case_list(self):
        self._get("/workflow/cases/", "case list", "案件")

    @task(2)
    def dashboard(self):
        self._get("/", "dashboard", "工作台")

    @task(1)
    def comparison(self):
        which = random.choice(["stop", "living", "care"])
        self._get(f"/assistance/disability/comparison/?list={which}", "两项补贴 comparison", "比对")

    @task(1)
    def run_lines(self):
        if TARGETS.get("run"):
            page = random.choice(["", "?page=2", "?page=20"])
            self._get(f"/benefits/runs/{TARGETS['run']}/{page}", "run lines", "发放")
