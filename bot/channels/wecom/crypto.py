"""WeCom callback crypto (企业微信回调加解密) on `cryptography`, pinned by the official test vectors.

key = base64(EncodingAESKey + "="), AES-256-CBC with IV = key[:16], PKCS#7 padding to 32-byte blocks
(not AES's 16), plaintext = 16 random bytes | 4-byte big-endian length | message | receive id,
signature = sha1 of the sorted concatenation of token, timestamp, nonce and ciphertext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.channels.wecom.errors import CallbackMalformed, SignatureMismatch

PAD_BLOCK = 32
_PREFIX = 16
_LENGTH = struct.Struct(">I")


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key; ValueError when the EncodingAESKey is not 43 base64 characters."""
    if len(encoding_aes_key) != 43:
        raise ValueError(f"must be 43 characters, got {len(encoding_aes_key)}")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("is not base64") from exc
    if len(key) != 32:
        raise ValueError(f"decodes to {len(key)} bytes, expected 32")
    return key


def _pad(data: bytes) -> bytes:
    amount = PAD_BLOCK - len(data) % PAD_BLOCK
    return data + bytes([amount]) * amount


def _unpad(data: bytes) -> bytes:
    amount = data[-1] if data else 0
    if not 1 <= amount <= PAD_BLOCK or data[-amount:] != bytes([amount]) * amount:
        raise CallbackMalformed("bad padding in the decrypted callback")
    return data[:-amount]


@dataclass(frozen=True)
class SealedReply:
    """An encrypted passive reply: the fields of WeCom's reply envelope."""

    encrypt: str
    signature: str
    timestamp: str
    nonce: str


class WeComCrypto:
    """Signs, verifies, encrypts and decrypts WeCom callbacks for one token/key/receive id."""

    def __init__(self, *, token: str, encoding_aes_key: str, receive_id: str) -> None:
        self._token = token
        self._key = decode_aes_key(encoding_aes_key)
        self._receive_id = receive_id.encode()

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        """sha1 hex of the four values sorted and joined."""
        joined = "".join(sorted([self._token, timestamp, nonce, encrypted]))
        return hashlib.sha1(joined.encode()).hexdigest()  # SHA1 is fixed by the protocol

    def verify(self, signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Raise SignatureMismatch unless the signature matches (constant-time comparison)."""
        expected = self.signature(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, signature.lower()):
            raise SignatureMismatch("msg_signature does not match")

    def decrypt(self, encrypted: str) -> str:
        """The message inside a ciphertext; refuses ciphertext addressed to another receive id."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except binascii.Error as exc:
            raise CallbackMalformed("ciphertext is not base64") from exc
        if not raw or len(raw) % 16:
            raise CallbackMalformed("ciphertext length is not a multiple of the AES block")
        decryptor = self._cipher().decryptor()
        plain = _unpad(decryptor.update(raw) + decryptor.finalize())
        if len(plain) < _PREFIX + _LENGTH.size:
            raise CallbackMalformed("decrypted callback is too short")
        (length,) = _LENGTH.unpack_from(plain, _PREFIX)
        start = _PREFIX + _LENGTH.size
        message, receive_id = plain[start : start + length], plain[start + length :]
        if len(message) != length:
            raise CallbackMalformed("decrypted callback is truncated")
        if not hmac.compare_digest(receive_id, self._receive_id):
            raise CallbackMalformed("callback is addressed to another corp id")
        try:
            return message.decode()
        except UnicodeDecodeError as exc:
            raise CallbackMalformed("decrypted callback is not UTF-8") from exc

    def encrypt(self, message: str, *, random_prefix: bytes | None = None) -> str:
        """Base64 ciphertext; `random_prefix` is fixed only by the deterministic test vector."""
        prefix = os.urandom(_PREFIX) if random_prefix is None else random_prefix
        if len(prefix) != _PREFIX:
            raise ValueError("random_prefix must be 16 bytes")
        body = message.encode()
        encryptor = self._cipher().encryptor()
        padded = _pad(prefix + _LENGTH.pack(len(body)) + body + self._receive_id)
        return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()

    def verify_url(self, *, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The plaintext WeCom expects back when it checks the callback URL."""
        self.verify(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def seal(self, message: str, *, timestamp: str, nonce: str, random_prefix: bytes | None = None) -> SealedReply:
        """Encrypt and sign a passive reply."""
        encrypted = self.encrypt(message, random_prefix=random_prefix)
        return SealedReply(encrypted, self.signature(timestamp, nonce, encrypted), timestamp, nonce)
