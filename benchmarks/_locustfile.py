"""Locust users for benchmarks/load.py: log in, browse the designer pages, start runs.

Each simulated user logs in once with its own account (``loadN`` / LOAD_PASSWORD) and then,
with one to three seconds of thought between actions, opens the designer page and its panes,
the runs list, a run's page and log, the project settings, and now and then presses Run on an
operation (a POST with the CSRF token, as htmx sends it). Anything but a 2xx/3xx answer, and
any page without its expected text, counts as a failure.
"""

from __future__ import annotations

import itertools
import os
import re

from locust import HttpUser, between, task

PROJECT = int(os.environ.get("LOAD_PROJECT_ID", "1"))
OPERATIONS = [int(x) for x in os.environ.get("LOAD_OPERATION_IDS", "1").split(",")]
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
_numbers = itertools.count()
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Designer(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.username = f"load{next(_numbers) % int(os.environ.get('LOAD_USERS', '50'))}"
        page = self.client.get("/accounts/login/", name="login page")
        token = _TOKEN.search(page.text).group(1)
        with self.client.post(
            "/accounts/login/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": self.host + "/accounts/login/"},
            name="log in",
            catch_response=True,
            allow_redirects=False,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"login answered {answer.status_code}")
        self.last_run: int | None = None

    def _csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def _page(self, url: str, name: str, expect: str) -> None:
        with self.client.get(url, name=name, catch_response=True) as answer:
            if answer.status_code != 200 or expect not in answer.text:
                answer.failure(f"{answer.status_code}, expected {expect!r}")

    @task(4)
    def designer(self) -> None:
        self._page(f"/projects/{PROJECT}/", "designer page", "Project endpoints and connectors")

    @task(3)
    def panes(self) -> None:
        for pane in ("palette", "canvas", "components"):
            self.client.get(
                f"/projects/{PROJECT}/panes/{pane}/",
                headers={"HX-Request": "true"},
                name=f"pane {pane}",
            )

    @task(2)
    def runs(self) -> None:
        self._page(f"/projects/{PROJECT}/runs/", "runs list", "operation log")

    @task(1)
    def settings(self) -> None:
        self._page(f"/projects/{PROJECT}/settings/", "project settings", "Members")

    @task(2)
    def run_page(self) -> None:
        if self.last_run:
            self._page(f"/projects/{PROJECT}/runs/{self.last_run}/", "run page", "Log")

    @task(1)
    def start_run(self) -> None:
        operation = OPERATIONS[next(_numbers) % len(OPERATIONS)]
        with self.client.post(
            f"/projects/{PROJECT}/operations/{operation}/run/",
            headers={"X-CSRFToken": self._csrf(), "Referer": self.host + "/"},
            name="start run",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            found = re.search(r"/runs/(\d+)/", answer.headers.get("Location", ""))
            if answer.status_code != 302 or not found:
                answer.failure(f"start answered {answer.status_code}")
                return
            self.last_run = int(found.group(1))
