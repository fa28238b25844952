"""X-Twilio-Signature: HMAC-SHA1 over the public URL Twilio called plus the sorted POST parameters.

The URL is rebuilt from the configured public base URL, never from the Host header or scheme the app
sees, so a TLS-terminating proxy or a port rewrite cannot make valid requests fail (or forged ones pass).
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


class SignatureChecker:
    """Checks and (for the simulator) computes Twilio request signatures."""

    def __init__(self, auth_token: str, public_base_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._base = public_base_url.rstrip("/")

    def public_url(self, path: str, query: str = "") -> str:
        """The URL Twilio was given for this request: public base + path + the query exactly as sent."""
        return f"{self._base}{path}" + (f"?{query}" if query else "")

    def valid(self, url: str, params: Mapping[str, str], signature: str | None) -> bool:
        if not signature:
            return False
        return bool(self._validator.validate(url, dict(params), signature))

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        return str(self._validator.compute_signature(url, dict(params)))
