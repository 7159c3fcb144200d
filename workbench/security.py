"""Security of the web workbench: response headers (a strict Content-Security-Policy), login rate limiting, CSRF
checks and the session cookie's flags. Role checks live with the routes (server-side, on every route)."""

from __future__ import annotations

import hmac
import threading
import time
from collections import defaultdict, deque

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

# No inline script or style anywhere: scripts and styles come from /static only.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
SESSION_COOKIE = "st_session"
LOGIN_COOKIE = "st_login"  # double-submit CSRF token of the login form (there is no session yet)


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next) -> Response:
        response = await call_next(request)
        for k, v in HEADERS.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"  # pages hold personal data: never kept by the browser
        return response


def cookie_flags(secure: bool) -> dict:
    return {"httponly": True, "secure": secure, "samesite": "strict", "path": "/"}


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


class LoginLimiter:
    """At most MAX_FAILURES failed logins per client address and per user name in WINDOW seconds; then logins
    from there, or for that name, are refused until the oldest failure leaves the window."""

    MAX_FAILURES = 5
    WINDOW = 15 * 60

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, deque] = defaultdict(deque)

    def _keys(self, client: str, name: str) -> tuple[str, str]:
        return f"ip:{client}", f"user:{name.lower()}"

    def attempt(self, client: str, name: str) -> int:
        """Count an attempt as a failure before the password is checked (so that parallel requests cannot
        outrun the limit during the slow argon2 verification): 0 when it may go ahead, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:  # bounded memory: forget windows that have passed
                for k in [k for k, q in self._failures.items() if not q or q[-1] < now - self.WINDOW]:
                    del self._failures[k]
            waits = []
            for k in self._keys(client, name):
                q = self._failures[k]
                while q and q[0] < now - self.WINDOW:
                    q.popleft()
                if len(q) >= self.MAX_FAILURES:
                    waits.append(int(q[0] + self.WINDOW - now) + 1)
            if waits:
                return max(waits)
            for k in self._keys(client, name):
                self._failures[k].append(now)
            return 0

    def succeeded(self, client: str, name: str) -> None:
        """A right password takes back the attempt counted for it (and forgets the name's failures)."""
        with self._lock:
            ip = self._failures.get(self._keys(client, name)[0])
            if ip:
                ip.pop()
            self._failures.pop(self._keys(client, name)[1], None)
