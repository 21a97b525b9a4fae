"""Small helpers shared by the tests."""
from __future__ import annotations

import re

from tests.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client, user, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})


def logout(client):
    token = csrf_token(client, "/")
    return client.post("/logout", data={"csrf_token": token})
