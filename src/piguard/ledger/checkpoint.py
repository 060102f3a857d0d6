"""C2SP checkpoints (tlog-checkpoint) in C2SP signed notes, Ed25519, plus witness cosignatures.

Pure: no database. A note is ``body + "\\n" + signature lines``; each line is
``— <key name> <base64(key id || signature)>``. The key id of an Ed25519 key is the first
4 bytes of SHA-256(name || 0x0A || 0x01 || public key). Witness cosignatures follow C2SP
tlog-cosignature (type 0x04, signed message ``cosignature/v1\\ntime <t>\\n`` + body).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from piguard.errors import LedgerError, SignatureError
from piguard.ledger.keys import public_key_bytes
from piguard.ledger.merkle import HASH_SIZE

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
EM_DASH = "\u2014"
MAX_NOTE_BYTES = 1_000_000
_NAME = re.compile(r"[^\s+]+")
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
#: The extension line of a key rotation's note (``ledger.rotation``): named when found elsewhere.
ROTATION = "piguard-key-rotation "


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The checkpoint body: origin line, tree size and root hash (plus optional extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The checkpoint text, each line ending in a newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(f"{line}\n" for line in lines)


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint and its complete signed note text."""

    checkpoint: Checkpoint
    note: str

    @property
    def tree_size(self) -> int:
        """Number of leaves the checkpoint commits to."""
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        """The RFC 9162 root hash."""
        return self.checkpoint.root


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line of a note."""

    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class Verifier:
    """A named Ed25519 public key that checks note signatures of one type."""

    name: str
    public_key: bytes
    kind: int = ED25519

    @property
    def key_id(self) -> bytes:
        """The 4-byte key id of the signed-note spec."""
        return key_id(self.name, self.public_key, self.kind)

    def vkey(self) -> str:
        """The verifier key string ``name+hex(key id)+base64(type || key)``."""
        encoded = base64.b64encode(bytes([self.kind]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


@contextmanager
def naming(where: Path | str) -> Iterator[None]:
    """Prefix a ledger error (bad key, bad note) with the file, URL or option it came from."""
    try:
        yield
    except LedgerError as exc:
        raise type(exc)(f"{where}: {exc}") from None


def key_id(name: str, public_key: bytes, kind: int = ED25519) -> bytes:
    """First four bytes of SHA-256(name || 0x0A || type || public key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise LedgerError("a key name must be non-empty, without spaces or '+'")


def verifier_for(name: str, key: Ed25519PrivateKey, kind: int = ED25519) -> Verifier:
    """The verifier matching a private key."""
    _check_name(name)
    return Verifier(name=name, public_key=public_key_bytes(key), kind=kind)


def parse_vkey(text: str) -> Verifier:
    """Parse a verifier key string; raises ``SignatureError`` if malformed."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise SignatureError("verifier key must be 'name+keyid+base64key'")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
        wanted_id = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError):
        raise SignatureError("verifier key has a malformed key id or key") from None
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1) or not _NAME.fullmatch(name):
        raise SignatureError("verifier key is not a named Ed25519 key")
    verifier = Verifier(name=name, public_key=raw[1:], kind=raw[0])
    if verifier.key_id != wanted_id:
        raise SignatureError("verifier key id does not match its name and key")
    return verifier


def sign_note(body: str, *, name: str, key: Ed25519PrivateKey) -> str:
    """A signed note: ``body``, a blank line and one Ed25519 signature line."""
    _check_body(body)
    verifier = verifier_for(name, key)
    signature = key.sign(body.encode())
    encoded = base64.b64encode(verifier.key_id + signature).decode()
    return f"{body}\n{EM_DASH} {name} {encoded}\n"


def _check_body(body: str) -> None:
    if not body or not body.endswith("\n") or "\n\n" in body:
        raise LedgerError("a note body must be non-empty lines, each ending in a newline")


def parse_note(text: str) -> tuple[str, list[NoteSignature]]:
    """Split a note into its body and signature lines; raises ``SignatureError`` if malformed."""
    if len(text.encode()) > MAX_NOTE_BYTES:
        raise SignatureError("note is too large")
    if "\r" in text:
        # Read as bytes: a CRLF note is not the text that was signed, and not silently converted.
        raise SignatureError("the note contains a carriage return (CR): its lines must end in LF only")
    if any(ch < " " and ch != "\n" for ch in text):
        raise SignatureError("note contains control characters")
    if not text.endswith("\n"):
        raise SignatureError("the note's last line does not end in a newline (every signature line must)")
    if text.endswith("\n\n"):
        # C2SP signed-note: the text is separated from the signatures by the *last* empty line, so
        # a trailing empty line would leave no signature lines at all; it is not tolerated.
        raise SignatureError(
            "the note ends with an empty line: a C2SP signed note ends with the newline of its last "
            "signature line (remove the extra newline)"
        )
    split = text.rfind("\n\n")
    if split < 0:
        raise SignatureError("note has no signature block (blank line then signature lines)")
    body, block = text[: split + 1], text[split + 2 :]
    signatures: list[NoteSignature] = []
    for number, line in enumerate(block[:-1].split("\n"), start=1):
        prefix = f"{EM_DASH} "
        fields = line[len(prefix) :].split(" ") if line.startswith(prefix) else []
        if len(fields) != 2 or not _NAME.fullmatch(fields[0]):
            raise SignatureError(f"signature line {number} is malformed")
        try:
            raw = base64.b64decode(fields[1], validate=True)
        except binascii.Error:
            raise SignatureError(f"signature line {number} is not base64") from None
        if len(raw) < 5:
            raise SignatureError(f"signature line {number} is too short")
        signatures.append(NoteSignature(name=fields[0], key_id=raw[:4], signature=raw[4:]))
    if not signatures:
        raise SignatureError("note has no signatures")
    return body, signatures


def _find(signatures: list[NoteSignature], verifier: Verifier) -> NoteSignature:
    for sig in signatures:
        if sig.name == verifier.name and sig.key_id == verifier.key_id:
            return sig
    impostor = next((sig for sig in signatures if sig.name == verifier.name), None)
    if impostor is not None:
        # Same name, other key: the key was replaced (or the note forged); say so, with both ids.
        raise SignatureError(
            f"note is signed by a different key named '{verifier.name}' "
            f"(key id {impostor.key_id.hex()}, expected {verifier.key_id.hex()})"
        )
    raise SignatureError(f"note carries no signature by key '{verifier.name}'")


def verify_note(text: str, verifier: Verifier) -> str:
    """Check the verifier's Ed25519 signature on a note; returns the body.

    Every signature line by the verifier's key must verify (as C2SP signed-note verifiers do): a
    second, broken line by the same key is not ignored because another one passes.
    """
    body, signatures = parse_note(text)
    _find(signatures, verifier)
    public = Ed25519PublicKey.from_public_bytes(verifier.public_key)
    for sig in signatures:
        if (sig.name, sig.key_id) != (verifier.name, verifier.key_id):
            continue
        try:
            public.verify(sig.signature, body.encode())
        except (InvalidSignature, ValueError):
            raise SignatureError(f"signature by '{verifier.name}' does not verify") from None
    return body


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a checkpoint body; raises ``LedgerError`` naming the bad line."""
    _check_body(body)
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise LedgerError("checkpoint needs origin, tree size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise LedgerError("checkpoint line 1: empty origin")
    if not _SIZE.fullmatch(size_text):
        raise LedgerError("checkpoint line 2: tree size is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise LedgerError("checkpoint line 3: root hash is not base64") from None
    if len(root) != HASH_SIZE:
        raise LedgerError(f"checkpoint line 3: root hash is {len(root)} bytes, expected 32")
    return Checkpoint(origin=origin, size=int(size_text), root=root, extensions=tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, *, key: Ed25519PrivateKey) -> SignedCheckpoint:
    """Sign a checkpoint with the log key (key name = origin)."""
    note = sign_note(checkpoint.body(), name=checkpoint.origin, key=key)
    return SignedCheckpoint(checkpoint=checkpoint, note=note)


def open_checkpoint(note: str, verifier: Verifier, *, extensions: bool = False) -> SignedCheckpoint:
    """Verify a signed checkpoint note and parse it; the origin must be the key name.

    A checkpoint is exactly three lines (origin, tree size, root hash): only a key rotation's note
    carries an extension line, and only its reader (``rotation.open_rotation``) passes ``extensions``.
    """
    checkpoint = parse_checkpoint(verify_note(note, verifier))
    if checkpoint.origin != verifier.name:
        raise SignatureError("checkpoint origin does not match the log key name")
    if checkpoint.extensions and not extensions:
        raise SignatureError(_extension_refused(checkpoint.extensions))
    return SignedCheckpoint(checkpoint=checkpoint, note=note)


def _extension_refused(extensions: tuple[str, ...]) -> str:
    # Line 4 on: nothing the signer meant to be read as a checkpoint (the line is not repeated).
    what = "a key rotation's line, which belongs in a rotation note" if extensions[0].startswith(ROTATION) else ""
    return (
        f"the checkpoint text has {len(extensions)} line(s) after the root hash{f' ({what})' if what else ''}: "
        "a checkpoint is exactly three lines (origin, tree size, root hash)"
    )


def _cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosign(note: str, *, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    """Append a witness cosignature line (C2SP tlog-cosignature) to a signed note."""
    body, _ = parse_note(note)
    witness = verifier_for(name, key, COSIGNATURE_V1)
    signature = key.sign(_cosigned_message(body, timestamp))
    encoded = base64.b64encode(witness.key_id + struct.pack(">Q", timestamp) + signature).decode()
    return f"{note}{EM_DASH} {name} {encoded}\n"


def verify_cosignature(note: str, witness: Verifier) -> int:
    """Check a witness cosignature on a note; returns its timestamp (seconds since the epoch)."""
    body, signatures = parse_note(note)
    sig = _find(signatures, witness)
    if len(sig.signature) != 8 + 64:
        raise SignatureError(f"cosignature by '{witness.name}' has the wrong length")
    (timestamp,) = struct.unpack(">Q", sig.signature[:8])
    try:
        Ed25519PublicKey.from_public_bytes(witness.public_key).verify(
            sig.signature[8:], _cosigned_message(body, timestamp)
        )
    except (InvalidSignature, ValueError):
        raise SignatureError(f"cosignature by '{witness.name}' does not verify") from None
    return int(timestamp)
