"""Only the user gets in to the review page (SPEC 21), checked with a plain HTTP client
against the page served on a real loopback socket over a Maildir account: a request
without the cookie, with a foreign Host, a cross-site POST or one without the CSRF token,
and a second use of a one-time link are each refused, and the state db is unchanged."""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from decliner import config as cfg
from decliner.web import guard as guards
from tests.testbed.maildir_tree import Tree, invite, run_pass
from tests.testbed.webpage import Served, db_dump, served


@pytest.fixture
def account(tmp_path: Path) -> cfg.Config:
    tree = Tree(tmp_path)
    tree.add(invite("web-sec@google.com")[0])
    config = tree.config(grace="5m")
    run_pass(config)
    return config


@pytest.fixture
def page(account: cfg.Config) -> Iterator[Served]:
    with served(account) as found:
        yield found


def event_id(page: Served) -> str:
    listing = page.get("/")
    assert listing.status == 200
    marker = 'href="/invite/'
    start = listing.body.index(marker) + len(marker)
    return listing.body[start : listing.body.index('"', start)]


def flag_form(page: Served, **extra: str) -> dict[str, str]:
    return {"csrf_token": page.csrf, "reason": "", "scope": "", "role": "", "company": "", **extra}


def test_no_cookie_is_refused_and_changes_nothing(account: cfg.Config, page: Served) -> None:
    """Without the cookie every page and form is refused (even with the CSRF token), and
    the refusal names the way in, not the secret."""
    target = event_id(page)
    before = db_dump(account)
    for path in ("/", f"/invite/{target}", "/threads", "/attention", "/static/style.css"):
        answer = page.request("GET", path)
        assert answer.status == 403, path
        assert "decliner web --open" in answer.body
    answer = page.request("POST", f"/invite/{target}/flag", form=flag_form(page))
    assert answer.status == 403
    wrong = page.request("GET", "/", headers={"Cookie": f"decliner_{page.port}=guessed"})
    assert wrong.status == 403
    assert db_dump(account) == before


def test_a_foreign_host_is_refused_and_changes_nothing(account: cfg.Config, page: Served) -> None:
    """A Host that is not 127.0.0.1 or localhost at the page's own port (DNS rebinding, or
    another port's page) is refused, even with the cookie and the token."""
    target = event_id(page)
    before = db_dump(account)
    for host in ("evil.example", f"evil.example:{page.port}", f"127.0.0.1:{page.port + 1}", ""):
        headers = {"Host": host, "Cookie": page.cookie}
        assert page.request("GET", "/", headers=headers).status == 400, host
        answer = page.request(
            "POST", f"/invite/{target}/flag", headers=headers, form=flag_form(page)
        )
        assert answer.status == 400, host
    assert page.get("/", Host=f"localhost:{page.port}").status == 200
    assert db_dump(account) == before


def test_a_cross_site_post_or_one_without_the_token_is_refused(
    account: cfg.Config, page: Served
) -> None:
    """A POST from another origin, or without (or with a wrong) CSRF token, changes
    nothing, though it carries the cookie; the page's own form then flags the event."""
    target = event_id(page)
    before = db_dump(account)
    path = f"/invite/{target}/flag"
    cookie = {"Cookie": page.cookie}
    refused = [
        page.request("POST", path, headers=cookie, form=flag_form(page, csrf_token="")),
        page.request("POST", path, headers=cookie, form=flag_form(page, csrf_token="0" * 64)),
        page.request("POST", path, headers=cookie, form={"reason": "x"}),
        page.request(
            "POST", path, headers={**cookie, "Origin": "http://evil.example"}, form=flag_form(page)
        ),
        page.request(
            "POST", path, headers={**cookie, "Sec-Fetch-Site": "cross-site"}, form=flag_form(page)
        ),
        page.request("POST", f"/invite/{target}/unflag", headers=cookie, form={}),
    ]
    assert [r.status for r in refused] == [403] * len(refused)
    assert db_dump(account) == before
    done = page.request(
        "POST",
        path,
        headers={**cookie, "Origin": f"http://{page.host}", "Sec-Fetch-Site": "same-origin"},
        form=flag_form(page),
    )
    assert done.status == 303
    assert db_dump(account) != before


def test_a_one_time_link_works_once(
    account: cfg.Config, page: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """The ticket sets an HttpOnly, SameSite=Strict cookie and redirects to a URL without
    it; used again (or stale, or made up) it is refused and sets nothing; it is never logged."""
    caplog.set_level(logging.DEBUG)
    ticket = page.ticket()
    first = page.request("GET", f"/login?ticket={ticket}")
    assert first.status == 303
    assert first.headers["location"] == "/"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"decliner_{page.port}={page.secret};")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    before = db_dump(account)
    again = page.request("GET", f"/login?ticket={ticket}")
    assert again.status == 403
    assert "set-cookie" not in again.headers
    stale = page.ticket()
    old = time.time() - guards.TICKET_LIFETIME - 5
    for kept in (page.state_dir / guards.TICKETS).iterdir():
        os.utime(kept, (old, old))
    for made_up in (stale, "x" * 43, ""):
        answer = page.request("GET", f"/login?ticket={made_up}")
        assert answer.status == 403
        assert "set-cookie" not in answer.headers
    assert db_dump(account) == before
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert ticket not in logged
    assert page.secret not in logged


def test_pages_carry_no_secret_and_allow_only_their_own_origin(page: Served) -> None:
    """After the first URL no page, header or link holds the secret or a ticket, every
    answer carries a CSP of the page's own origin, and the secret file is 0600."""
    target = event_id(page)
    ticket = page.ticket()
    for path in ("/", f"/invite/{target}", "/threads", "/attention", "/static/countdown.js"):
        answer = page.get(path)
        assert answer.status == 200, path
        shown = answer.body + repr(sorted(answer.headers.items()))
        assert page.secret not in shown, path
        assert ticket not in shown, path
        assert answer.headers["content-security-policy"].startswith("default-src 'self';")
        assert "http" not in answer.headers["content-security-policy"]
        assert answer.headers["x-frame-options"] == "DENY"
    mode = stat.S_IMODE((page.state_dir / guards.SECRET_FILE).stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE((page.state_dir / guards.TICKETS).stat().st_mode) == 0o700
