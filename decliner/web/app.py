"""The review page's Flask app (SPEC 21): pages that read the state db read-only through
the service layer, and forms that flag and unflag through the same code as the CLI.

Flask, because decliner is synchronous (sqlite3, imapclient, the CLI's own flag and
unflag), its templates are Jinja2 like the letters, and Werkzeug serves an inherited
socket (systemd) and stops on request; the choice and its measured import cost are in
docs/design.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from decliner.cli.preview_text import booking_notes, message_text
from decliner.config import Config
from decliner.errors import DeclinerError, UserError
from decliner.service import flagging, review, thread_log, wiring
from decliner.web.guard import CONTENT_SECURITY_POLICY, Guard

COOKIE_DAYS = 30
_OPEN_HINT = "open it with `decliner web --open`"


def create_app(
    config: Config, guard: Guard, *, now: Callable[[], datetime] = wiring.utcnow
) -> Flask:
    """The page for `config`'s account, let in by `guard`."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # a form is a few short fields
    _filters(app, config)
    _guarded(app, guard)
    _pages(app, config, now)
    _actions(app, config)
    return app


def _filters(app: Flask, config: Config) -> None:
    """Dates in the account's zone, and the CLI's own text for a message and its notes."""
    zone = config.account.zone

    @app.template_filter("when")
    def when(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%a %d %b %Y, %H:%M") if moment else ""

    @app.template_filter("iso")
    def iso(moment: datetime) -> str:
        return moment.isoformat()

    app.jinja_env.globals["message_text"] = message_text
    app.jinja_env.globals["booking_notes"] = booking_notes
    app.jinja_env.globals["account"] = config.account


def _guarded(app: Flask, guard: Guard) -> None:
    """Host, cookie and CSRF checks before every request; hardening headers after it."""

    @app.context_processor
    def common() -> dict[str, object]:
        return {"csrf_token": guard.csrf_token}

    @app.before_request
    def let_in() -> BaseResponse | None:
        if not guard.host_allowed(request.headers.get("Host")):
            return _refused(400, "This page answers only at its loopback address.")
        if request.endpoint == "login":
            return None
        if not guard.signed_in(request.cookies.get(guard.cookie_name)):
            return _refused(403, f"Not signed in to decliner's review page: {_OPEN_HINT}.")
        if request.method == "POST" and not (
            guard.origin_allowed(request.headers.get("Origin"))
            and request.headers.get("Sec-Fetch-Site", "same-origin") in {"same-origin", "none"}
            and guard.csrf_ok(request.form.get("csrf_token"))
        ):
            return _refused(403, "This form did not come from the review page: nothing changed.")
        return None

    @app.after_request
    def harden(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        # same-origin: forms carry their Origin (with no-referrer it is "null"), and a
        # booking link opened from the page gets no referrer.
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Decliner"] = "review page"
        return response

    @app.get("/login")
    def login() -> BaseResponse:
        if not guard.redeem(request.args.get("ticket", "")):
            return _refused(403, f"This sign-in link was used already or is too old: {_OPEN_HINT}.")
        response = redirect(url_for("invitations"), code=303)
        response.set_cookie(
            guard.cookie_name,
            guard.secret,
            max_age=COOKIE_DAYS * 86400,
            path="/",
            httponly=True,
            samesite="Strict",
        )
        return response


def _pages(app: Flask, config: Config, now: Callable[[], datetime]) -> None:
    """The pages: each reads the state db read-only, through the service layer."""

    @app.get("/")
    def invitations() -> str:
        include_past = request.args.get("all") == "1"
        with wiring.open_store(config, readonly=True) as store:
            groups = review.groups(config, store, now(), include_past=include_past)
            grace = review.in_grace(config, store, now())
            waiting = review.attention(config, store, now()).count
        return render_template(
            "invitations.html",
            groups=groups,
            grace=grace,
            include_past=include_past,
            waiting=waiting,
        )

    @app.get("/invite/<key>")
    def invitation(key: str) -> str | BaseResponse:
        try:
            with wiring.open_store(config, readonly=True) as store:
                found = review.detail(config, store, key, now())
                waiting = review.attention(config, store, now()).count
        except UserError as exc:
            return _refused(404, str(exc))
        return render_template(
            "invitation.html", d=found, done=request.args.get("done", ""), waiting=waiting
        )

    @app.get("/threads")
    def threads() -> str:
        with wiring.open_store(config, readonly=True) as store:
            entries = thread_log.log_entries(config, store)
            waiting = review.attention(config, store, now()).count
        by_event: dict[str, list[thread_log.LogEntry]] = {}
        for entry in entries:
            by_event.setdefault(entry.event.id, []).append(entry)
        return render_template("threads.html", threads=list(by_event.values()), waiting=waiting)

    @app.get("/attention")
    def attention() -> str:
        with wiring.open_store(config, readonly=True) as store:
            found = review.attention(config, store, now())
        return render_template("attention.html", a=found, waiting=found.count)


def _actions(app: Flask, config: Config) -> None:
    """The forms: flag and unflag through the CLI's own functions, then back to the page."""

    @app.post("/invite/<key>/flag")
    def flag(key: str) -> BaseResponse:
        form = request.form

        def act(store: wiring.Store) -> str:
            flagging.flag(
                config,
                store,
                key,
                reason=form.get("reason", "").strip(),
                to=form.get("to", "").strip(),
                scope=form.get("scope", ""),
                role=form.get("role", ""),
                company=form.get("company", ""),
            )
            return "flagged"

        return _act(key, act)

    @app.post("/invite/<key>/unflag")
    def unflag(key: str) -> BaseResponse:
        return _act(key, lambda store: unflag_outcome(flagging.unflag(config, store, key)))

    def _act(key: str, action: Callable[[wiring.Store], str]) -> BaseResponse:
        try:
            with wiring.open_store(config) as store:
                done = action(store)
        except DeclinerError as exc:  # the CLI's one line, as a page
            return _refused(400 if isinstance(exc, UserError) else 503, str(exc))
        return redirect(url_for("invitation", key=key, done=done), code=303)


def unflag_outcome(result: flagging.UnflagResult) -> str:
    """What the page says after an undo, as `decliner unflag` does: too late, still
    flagged elsewhere (and by what), or cancelled; a code the template words."""
    if result.withdrawal_state in ("pending", "sent"):
        return f"too-late-{result.withdrawal_state}"
    if result.remaining:
        return "kept-" + "-".join(sorted(result.remaining))
    return "unflagged"


def _refused(status: int, text: str) -> BaseResponse:
    """A short page saying why, with the status that says it to a script."""
    body = render_template("refused.html", status=status, text=text)
    return Response(body, status=status, mimetype="text/html")
