"""Locust users for benchmarks/staff_pages.py: township officers at work on the demo county.

Each simulated user signs in once (as one of the township officers, in turn) and then
opens pages chosen by weight: the work queue, a household file, a search, an application.
Which pages, and the ids and search words to put in them, come from the JSON file named
by JIUZHU_BENCH_TARGETS, which staff_pages.py writes from the database:

    {"pages": [{"name": "work queue", "path": "/work/", "weight": 3},
               {"name": "household file", "path": "/work/households/{household}/", "weight": 3}, ...],
     "accounts": [{"username": ..., "password": ..., "household": [ids], "application": [ids],
                   "q": ["王", "王秀兰", "2208821970"]}],
     "wait": [1.0, 3.0]}

A path's {placeholders} name lists of the account. A page counts as failed when it does
not answer 200 or when the answer is the sign-in page (the session was lost).
"""

from __future__ import annotations

import itertools
import json
import os
import random
from typing import Any
from urllib.parse import quote

from locust import HttpUser, between, task

with open(os.environ["JIUZHU_BENCH_TARGETS"], encoding="utf-8") as _handle:
    TARGETS: dict[str, Any] = json.load(_handle)

PAGES: list[dict[str, Any]] = TARGETS["pages"]
_next_account = itertools.count()


class TownshipOfficer(HttpUser):
    wait_time = between(*TARGETS.get("wait", (1.0, 3.0)))

    def on_start(self) -> None:
        accounts = TARGETS["accounts"]
        self.account = accounts[next(_next_account) % len(accounts)]
        self.client.get("/accounts/login/", name="login")
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post("/accounts/login/", name="login", allow_redirects=False, catch_response=True,
                              data={"username": self.account["username"], "password": self.account["password"],
                                    "csrfmiddlewaretoken": token},
                              headers={"Referer": f"{self.host}/accounts/login/"}) as response:
            # A failed sign-in is an error, and so is every page after it (they answer the sign-in page).
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}, not a redirect")

    def _path(self, template: str, *, quoted: bool = True) -> str:
        values = {key: str(random.choice(self.account[key]))
                  for key in ("household", "application", "q") if "{" + key + "}" in template}
        return template.format(**{k: quote(v) if quoted else v for k, v in values.items()})

    def _open(self, page: dict[str, Any]) -> Any:
        """GET the page, or POST its form (a search: the words stay out of the address)."""
        path = self._path(page["path"])
        if "form" not in page:
            return self.client.get(path, name=page["name"], catch_response=True)
        form = {k: self._path(v, quoted=False) for k, v in page["form"].items()}
        return self.client.post(path, name=page["name"], catch_response=True,
                                data={**form, "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")},
                                headers={"Referer": f"{self.host}{path}"})

    @task
    def open_a_page(self) -> None:
        page = random.choices(PAGES, weights=[p.get("weight", 1) for p in PAGES])[0]
        with self._open(page) as response:
            if response.status_code == 0:  # no answer at all: the connection failed or timed out
                response.failure(f"no answer: {response.error!r}")
            elif response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif "/accounts/login/" in response.url:
                response.failure("redirected to the sign-in page")
            else:
                response.success()
