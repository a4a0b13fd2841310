"""Small HTTP helpers for the sandbox tests: an authorized session against the V3 API."""

from __future__ import annotations

from typing import Any

import requests

from connectors.constant_contact.sandbox import Sandbox


class Api:
    """`requests` against one sandbox with one bearer token; paths are relative to /v3."""

    def __init__(self, sandbox: Sandbox, access_token: str) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {access_token}"

    def url(self, path: str) -> str:
        if path.startswith("/v3/"):
            return self.sandbox.url + path
        return self.sandbox.api_base_url + path

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url(path), timeout=10, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.url(path), timeout=10, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.put(self.url(path), timeout=10, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.delete(self.url(path), timeout=10, **kwargs)

    def all_contacts(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Follow `_links.next.href` to the end, as a connector must."""
        contacts: list[dict[str, Any]] = []
        response = self.get("/contacts", params=params)
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            contacts.extend(body["contacts"])
            next_link = body.get("_links", {}).get("next")
            if not next_link:
                return contacts
            response = self.get(next_link["href"])


def error_keys(response: requests.Response) -> list[str]:
    """The error keys of an answer: an array of errors, or one object (a 401)."""
    body = response.json()
    return [error["error_key"] for error in (body if isinstance(body, list) else [body])]
