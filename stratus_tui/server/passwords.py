"""Password hashing for the reference server: salted scrypt, self-describing, constant-time check.

A stored hash reads ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``, so its cost parameters
travel with it and can be raised later without breaking existing accounts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# OWASP's scrypt floor (N=2^17 is its first choice; 2^14 with r=8 keeps a login near 50 ms
# on a shared two-core machine while costing an attacker 16 MiB per guess).
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches ``stored``; False for no or a malformed hash."""
    if not stored:
        # Spend the same time as a real check so a missing account is not told apart.
        hashlib.scrypt(b"x", salt=b"0" * 16, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=_MAXMEM)
        return False
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, bytes.fromhex(digest_hex))
