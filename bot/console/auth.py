"""Console access: user/password login (signed session cookie) or an API key.

Roles: `viewer` < `admin` for operations (leads, campaigns, content, audit); `advisor` for training
only, tied to the advisor id its sessions are filed under.

- Passwords are stored as scrypt hashes (`advisor console hash-password`), compared in constant time;
  an unknown user costs the same scrypt as a known one, so timing does not reveal who exists.
- Wrong passwords slow down the one (user, client address) pair they come from, by a short delay that
  grows with each failure (up to MAX_DELAY_S): guessing is slow, and nobody can lock the real user out.
  The app keeps the failures in its database (bot/console/failures.py), so guesses spread over several
  app processes count together.
- The session cookie is HMAC-signed (session_secret, or a random per-process secret: sessions then end
  when the app restarts), HttpOnly and SameSite=Strict; it names a server-side session (a database row,
  bot/console/sessions.py) that logout revokes. Every state-changing form also carries a token
  derived from the session, so a cross-site POST fails twice over.
- API keys (X-API-Key) are for scripts and carry no cookie, so they need no CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot.console.failures import LoginFailures, MemoryFailures
from bot.settings import ConsoleSettings

Role = Literal["viewer", "admin", "advisor"]
COOKIE = "advisor_console"
_RANK = {"viewer": 0, "admin": 1}  # operations roles; an advisor has none of them
# Failures per (user, address) that cost nothing; then each attempt waits 1, 2, 4 ... MAX_DELAY_S seconds
# after the previous failure. Failures older than FAILURE_MEMORY_S are forgotten.
FREE_FAILURES = 3
MAX_DELAY_S = 30.0
FAILURE_MEMORY_S = 15 * 60
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """scrypt$n$r$p$salt$hash (base64): the format ADVISOR_CONSOLE__USERS__<name>__PASSWORD_HASH takes."""
    if not password:
        raise ValueError("password must not be empty")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """True when `password` matches `encoded`; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, expected = encoded.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


_DUMMY_HASH = hash_password("not-a-real-password", salt=b"\x00" * 16)


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (cookie session) or an API key, and their role."""

    name: str
    role: Role
    via: Literal["session", "api_key"]
    nonce: str = ""  # the server-side session's id (cookie sessions)
    advisor_id: str | None = None  # whose training sessions this user may write (and read)

    def allows(self, role: Literal["viewer", "admin"]) -> bool:
        """Operations access: admin includes viewer; an advisor has neither."""
        return self.role in _RANK and _RANK[self.role] >= _RANK[role]


class ConsoleAuth:
    """Checks credentials and issues/reads session cookies; built once per app from settings."""

    def __init__(
        self,
        settings: ConsoleSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        failures: LoginFailures | None = None,
    ) -> None:
        """`failures`: this process's memory by default; the app passes the shared database's (with a
        wall clock, the same in every process)."""
        self._users = {name.lower(): user for name, user in settings.users.items()}
        self._keys = [(name, k.key.get_secret_value().encode("utf-8"), k.role) for name, k in settings.api_keys.items()]
        secret = settings.session_secret.get_secret_value() if settings.session_secret else secrets.token_hex(32)
        self._secret = secret.encode("utf-8")
        self.max_age_s = int(settings.session_hours * 3600)
        self._failures = failures or MemoryFailures()
        self._clock = clock

    @property
    def configured(self) -> bool:
        return bool(self._users or self._keys)

    def retry_after(self, username: str, address: str) -> float:
        """Seconds this (user, address) must still wait after its recent failures; 0 to try now."""
        recent = self._failures.recent(username.strip().lower(), address, since=self._clock() - FAILURE_MEMORY_S)
        if len(recent) < FREE_FAILURES:
            return 0.0
        delay = min(2.0 ** (len(recent) - FREE_FAILURES), MAX_DELAY_S)
        return max(0.0, recent[-1] + delay - self._clock())

    def login(self, username: str, password: str, *, address: str) -> Principal | None:
        """The user's principal, or None; blocking (scrypt): call from a worker thread."""
        name = username.strip().lower()
        user = self._users.get(name)
        encoded = user.password_hash.get_secret_value() if user else _DUMMY_HASH
        ok = verify_password(password, encoded)
        if user is None or not ok:
            now = self._clock()
            self._failures.add(name, address, at=now, forget_before=now - FAILURE_MEMORY_S)
            return None
        self._failures.clear(name, address)
        return Principal(
            name=name, role=user.role, via="session", nonce=secrets.token_hex(16), advisor_id=user.advisor_id
        )

    def from_api_key(self, key: str) -> Principal | None:
        """Every key is compared (no early exit), each in constant time."""
        found: Principal | None = None
        given = key.encode("utf-8")
        for name, expected, role in self._keys:
            if hmac.compare_digest(given, expected) and found is None:
                found = Principal(name=f"key:{name}", role=role, via="api_key")
        return found

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._secret, payload, hashlib.sha256).hexdigest()

    def cookie_for(self, principal: Principal) -> str:
        body = json.dumps(
            {"u": principal.name, "r": principal.role, "n": principal.nonce, "exp": int(time.time()) + self.max_age_s},
            separators=(",", ":"),
        ).encode("utf-8")
        payload = base64.urlsafe_b64encode(body).rstrip(b"=")  # no '=': the cookie value needs no quoting
        return f"{payload.decode()}.{self._sign(payload)}"

    def from_cookie(self, cookie: str) -> Principal | None:
        """The session's principal; None if forged, expired, or the user was removed or demoted."""
        payload, _, signature = cookie.partition(".")
        if not hmac.compare_digest(self._sign(payload.encode("utf-8")), signature):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            name, role, nonce, expires = str(data["u"]), data["r"], str(data["n"]), int(data["exp"])
        except (ValueError, KeyError, TypeError):
            return None
        user = self._users.get(name)
        if expires < time.time() or user is None or role not in {"viewer", "admin", "advisor"}:
            return None
        return Principal(name=name, role=user.role, via="session", nonce=nonce, advisor_id=user.advisor_id)

    def csrf_token(self, principal: Principal) -> str:
        """The form token for this session (bound to its nonce, so it dies with the session)."""
        return self._sign(f"csrf:{principal.name}:{principal.nonce}".encode())

    def check_csrf(self, principal: Principal, token: str | None) -> bool:
        if principal.via == "api_key":
            return True
        return bool(token) and hmac.compare_digest(self.csrf_token(principal), token or "")
