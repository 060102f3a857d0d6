"""Generated secrets: created by ``piguard init`` with mode 0600, never committed."""

from __future__ import annotations

import itertools
import os
import secrets
from pathlib import Path
from stat import S_ISVTX

from piguard.config import Settings
from piguard.errors import ConfigError

PLACEHOLDERS = {b"", b"changeme", b"change-me", b"secret", b"placeholder", b"0" * 64}
MIN_SECRET_BYTES = 32
# 64 random hex digits use fewer than 10 of the 16 with a probability of about 1e-12.
MIN_DISTINCT_DIGITS = 10
RESTORE_HINT = "put back the key file from your backup (on a new installation: delete it and run 'piguard init')"


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 (its folder 0700) and write ``data``; never overwrites."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())  # a key must be on disk before anything is encrypted or signed with it


def ensure_secret(settings: Settings) -> bool:
    """Create the HMAC secret if missing; returns True when a new one was written."""
    path = settings.secret_key_path()
    if path.exists():
        return False
    write_private(path, secrets.token_hex(32).encode())
    return True


def pending_secret_path(settings: Settings) -> Path:
    """Where a secret rotation keeps the new secret until the re-encrypted seeds have committed."""
    path = settings.secret_key_path()
    return path.with_name(path.name + ".next")


class ReplaceableSecretError(ConfigError):
    """The key file holds a placeholder or a weak secret, which ``piguard init`` may replace.

    ``what`` says which ("a placeholder", "a weak secret (...)"); ``key`` is the weak secret when
    it decodes (earlier versions accepted it, so data may be encrypted under it), None for a
    placeholder, which no version ever loaded.
    """

    def __init__(self, path: Path, *, what: str, key: bytes | None) -> None:
        self.path = path
        self.what = what
        self.key = key
        super().__init__(f"secret key file {path} holds {what}: run 'piguard init' to replace it")


def load_secret(settings: Settings, *, allow_weak: bool = False) -> bytes:
    """The HMAC secret; refuses a missing, world-readable, short, placeholder or weak secret.

    ``allow_weak`` lets a rotation read a weak secret that data is still encrypted under.
    """
    path = settings.secret_key_path()
    if not path.exists():
        raise ConfigError(f"secret key file {path} is missing: run 'piguard init'")
    if pending_secret_path(settings).exists():
        # Mid-rotation the database may already hold seeds encrypted under the new secret.
        raise ConfigError("a secret rotation is unfinished: run 'piguard rotate-secret --finish'")
    return read_secret_file(path, allow_weak=allow_weak)


def weakness(text: bytes) -> str | None:
    """Why the hex text of a secret is an obvious low-entropy pattern, or None.

    A secret from ``secrets.token_hex`` shows none of these except with negligible probability.
    """
    distinct = len(set(text))
    if distinct <= 1:
        return "one character repeated"
    if distinct < MIN_DISTINCT_DIGITS:
        return f"fewer than {MIN_DISTINCT_DIGITS} different digits"
    if _smallest_period(text) <= len(text) // 2:
        return "a short block repeated"
    try:
        values = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    steps = {(b - a) % 256 for a, b in itertools.pairwise(values)}
    if len(steps) == 1:
        return "a counting sequence"
    return None


def check_private_file(path: Path, what: str) -> os.stat_result:
    """The key file's status; ``ConfigError`` unless only piguard's own user can read or replace it.

    Readable by group or others, owned by another user, or in a folder others may write to (they
    could swap the key for their own; a sticky folder such as /tmp lets nobody replace another's
    file) are each refused, naming the file and the fix.
    """
    stat = path.stat()
    if stat.st_mode & 0o077:
        raise ConfigError(f"{what} {path} is readable by others: chmod 600 it")
    if stat.st_uid != os.geteuid():
        raise ConfigError(
            f"{what} {path} belongs to another user (uid {stat.st_uid}): chown it to the user piguard runs as"
        )
    folder = path.parent.stat()
    if folder.st_mode & 0o022 and not folder.st_mode & S_ISVTX:
        raise ConfigError(
            f"{what} {path} is in a folder others may write to (and so replace it): chmod 700 {path.parent}"
        )
    return stat


def read_secret_file(path: Path, *, allow_weak: bool = False) -> bytes:
    """Read and check one secret file: private, hex, long enough, not a placeholder nor weak."""
    check_private_file(path, "secret key file")
    raw = path.read_bytes().strip().lower()
    key = _hex_key(raw)
    why = weakness(raw)
    if raw in PLACEHOLDERS or (why is not None and key is None):
        raise ReplaceableSecretError(path, what="a placeholder", key=None)  # no version ever loaded it
    if key is None:
        problem = "is not hex-encoded" if not _is_hex(raw) else f"is shorter than {MIN_SECRET_BYTES} bytes"
        raise ConfigError(f"secret key file {path} {problem}: {RESTORE_HINT}")
    if why is not None and not allow_weak:
        raise ReplaceableSecretError(path, what=f"a weak secret ({why})", key=key)
    return key


def _hex_key(text: bytes) -> bytes | None:
    """The key ``text`` encodes, if it is hex of at least ``MIN_SECRET_BYTES`` bytes."""
    if not _is_hex(text):
        return None
    key = bytes.fromhex(text.decode("ascii"))
    return key if len(key) >= MIN_SECRET_BYTES else None


def _smallest_period(text: bytes) -> int:
    """The smallest p such that ``text[i] == text[i - p]`` throughout (Knuth-Morris-Pratt borders)."""
    if not text:
        return 0
    border = [0] * len(text)
    for i in range(1, len(text)):
        k = border[i - 1]
        while k and text[i] != text[k]:
            k = border[k - 1]
        border[i] = k + 1 if text[i] == text[k] else 0
    return len(text) - border[-1]


def _is_hex(text: bytes) -> bool:
    try:
        bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True
