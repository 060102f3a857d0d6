"""Evidence bundles: selected events, their inclusion proofs, a signed checkpoint and the key.

A bundle is a directory a third party can check with no database and no trust in us:

- ``manifest.json``  format, tree size, root, origin, the selection and the entry count
- ``checkpoint.note`` the C2SP signed checkpoint the proofs lead to
- ``log.vkey``        the log's verifier key (``name+keyid+base64``); pin it out of band
- ``entries.jsonl``   one object per event: ``index``, ``leaf`` (the exact canonical JSON),
                      ``leaf_hash`` and ``proof`` (base64 RFC 9162 inclusion proof)
- ``key-rotations.json`` (only if the log has rotated its key) the rotation notes, each signed
                      by the retired and the new key, that lead from an earlier key to ``log.vkey``
- ``README.md``       how to verify with any RFC 9162 implementation
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.db.base import utcnow
from piguard.errors import InputError, LedgerError
from piguard.interchange.events import AccessEvent
from piguard.ledger import rotation, service, store
from piguard.ledger.checkpoint import SignedCheckpoint, Verifier, naming, open_checkpoint, parse_vkey
from piguard.ledger.manifest import StatedSelection, named, stated_selection
from piguard.ledger.merkle import leaf_hash, verify_inclusion

FORMAT = "piguard-evidence/1"
#: Entries whose proofs are built from one batched read of their nodes.
BATCH = 1000
FILES = ("manifest.json", "checkpoint.note", "log.vkey", "entries.jsonl", "README.md")
ROTATIONS = "key-rotations.json"  # present only when the log has rotated its key
#: Largest note, key or rotations file read: each is a few hundred bytes when exported.
MAX_SMALL_FILE = 1 << 20
#: Longest line of ``entries.jsonl``: an event and its proof are a few kilobytes (a search's
#: subject list can make more); beyond this a line is not read into memory.
MAX_LINE = 16 << 20
#: Largest manifest: a selection by event id lists every id asked for (about 40 bytes each).
MAX_MANIFEST = MAX_LINE

README = """# piguard evidence bundle

This folder proves that each event in `entries.jsonl` is part of an append-only,
tamper-evident log (an RFC 9162 Merkle tree) whose state at `tree_size` entries is signed
in `checkpoint.note`.

## Check it

1. Obtain the log's public key from its operator through a channel you trust, and compare
   it with `log.vkey`: `name+keyid+base64(0x01 || 32-byte Ed25519 public key)`. The key id
   (8 hex digits) is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key), as the
   C2SP signed-note spec recommends for Ed25519 keys; recompute it to check the string.
2. `checkpoint.note` is a C2SP signed note. Its text is everything before the blank line:
   three lines (origin, tree size in decimal, base64 root hash), each ending in a newline.
   The signed bytes are exactly that text, UTF-8, including the newline that ends the root
   line and excluding the blank line. After the blank line each signature line is
   `— <name> base64(4-byte key id || 64-byte Ed25519 signature)` (an em dash, U+2014).
   Check the signature whose name and key id match the key with the public key (a checkpoint
   made when the log rotated its key carries two signature lines; either key's verifies).
   If the key you hold is an earlier key of the log, `key-rotations.json` leads from it to
   `log.vkey`: each rotation's `note` is a checkpoint with the extra line
   `piguard-key-rotation <new key>`, signed by the retired key (`old_key`) and by the new one.
   Check both signatures on each, in order, starting from your key; a key signs only
   checkpoints up to the tree size of the rotation that retired it.
3. For each line of `entries.jsonl`: the leaf bytes are the UTF-8 encoding of `leaf` (RFC 8785
   canonical JSON of the access event). Its leaf hash is SHA-256(0x00 || leaf bytes), the RFC
   9162 section 2.1.1 leaf hash, and must equal the base64 `leaf_hash`. `index` is the leaf's
   position in the log, counted from 0. With the base64 `proof` hashes, recompute the root
   (RFC 9162 section 2.1.3.2, node hash SHA-256(0x01 || left || right)) for leaf `index` in a
   tree of `tree_size` leaves and compare it with the root in the checkpoint. Any RFC 9162 /
   RFC 6962 library does this, e.g. transparency-dev/merkle `proof.VerifyInclusion` (Go).
4. `manifest.json` states how many entries were exported and how they were selected
   (`selection`: user, subject, and a time window `from` inclusive, `to` exclusive). Check that
   every event matches it and that the count is right. A selection by event id lists the ids
   asked for (`event_ids`) and those that were not in the log (`missing`): every id asked for
   must be an event of `entries.jsonl` or listed as missing, and `origin` must be the
   checkpoint's first line.

Or run: `piguard audit verify-evidence <this folder> --log-key '<vkey>'` (no database needed):
it does all of the above and prints the selection.

Events name the fields that were disclosed (e.g. `relative.phone`), not their contents. A search
event also keeps the text the user searched for (`query`) and the subjects it returned: that is
the evidence of who looked for whom. The bundle proves that each event is in the log; it does
not prove that no other event matches the selection (the manifest is not signed).
"""


@dataclass(frozen=True, slots=True)
class EvidenceSummary:
    """What a bundle holds."""

    entries: int
    tree_size: int
    root: bytes
    origin: str
    key_id: str
    #: Files in the bundle folder that are not part of the format (nothing checked them).
    unchecked: tuple[str, ...] = ()
    #: How the manifest says the events were selected (every event was checked against it).
    selection: StatedSelection | None = None


def _b64(value: bytes) -> str:
    return binascii.b2a_base64(value, newline=False).decode()


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def export_evidence(
    *,
    session: Session,
    out: Path,
    settings: Settings,
    user_id: str | None = None,
    subject_id: str | None = None,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
    event_ids: Collection[str] | None = None,
) -> EvidenceSummary:
    """Write a bundle for the selected events (signs a checkpoint of the current tree).

    ``event_ids`` selects those events instead (e.g. an investigation's own events and the
    events it cites): the manifest lists the ids asked for, and as ``missing`` those not in the
    log, so a recipient can tell that every id is accounted for.
    """
    if out.exists() and any(out.iterdir()):
        raise InputError("output folder exists and is not empty", where=str(out))
    if event_ids is not None and (user_id, subject_id, time_from, time_to) != (None, None, None, None):
        # An id in the log but outside the other criteria would be neither exported nor missing.
        raise InputError("a selection by event id cannot also select by user, subject or time", where="event_ids")
    if time_from is not None and time_to is not None and time_from > time_to:
        raise InputError("'from' is later than 'to': the window selects nothing", where="from")
    signed = service.checkpoint(session=session, settings=settings)
    verifier = service.log_verifier(settings)
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    asked = None if event_ids is None else list(dict.fromkeys(event_ids))  # caller's order, no repeats
    wanted = None if asked is None else set(asked)
    found: set[str] = set()
    if wanted is None:
        selected = service.iter_entries(
            session=session,
            end=signed.tree_size,
            user_id=user_id,
            subject_id=subject_id,
            time_from=time_from,
            time_to=time_to,
        )
    else:  # only the rows of those events are read
        indexes = store.indexes_of(session, wanted, end=signed.tree_size)
        selected = service.entries_at(session=session, indexes=indexes)
    with (out / "entries.jsonl").open("w", encoding="utf-8") as handle:
        for batch in _batches(selected, BATCH):
            # One batched read per batch: the proofs' paths share every node towards the root.
            proofs = service.inclusion_proofs(
                session=session, indexes=[entry.index for entry in batch], size=signed.tree_size
            )
            lines = []
            for entry, proof in zip(batch, proofs, strict=True):
                found.add(entry.event.event_id)
                record = {
                    "index": entry.index,
                    "leaf": entry.data.decode("utf-8"),
                    "leaf_hash": _b64(entry.leaf_hash),
                    "proof": [_b64(p) for p in proof],
                }
                lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            handle.writelines(lines)
            count += len(lines)
    manifest = {
        "format": FORMAT,
        "origin": signed.checkpoint.origin,
        "tree_size": signed.tree_size,
        "root": _b64(signed.root),
        "entries": count,
        "selection": {
            "user_id": user_id,
            "subject_id": subject_id,
            "from": time_from.isoformat() if time_from else None,
            "to": time_to.isoformat() if time_to else None,
            **({} if asked is None else {"event_ids": asked, "missing": [i for i in asked if i not in found]}),
        },
        "created_at": utcnow().isoformat(),
    }
    _write_text(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    _write_text(out / "checkpoint.note", signed.note)
    _write_text(out / "log.vkey", verifier.vkey() + "\n")
    rotations = rotation.stored_rotations(session)
    if rotations:
        # Lets whoever pinned an earlier key follow the log's key rotations to log.vkey.
        _write_text(out / ROTATIONS, json.dumps(rotation.published(rotations), indent=2) + "\n")
    _write_text(out / "README.md", README)
    return EvidenceSummary(count, signed.tree_size, signed.root, verifier.name, verifier.key_id.hex())


def _batches(entries: Iterator[service.Entry], size: int) -> Iterator[list[service.Entry]]:
    batch: list[service.Entry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _read(bundle: Path, name: str, limit: int = MAX_SMALL_FILE) -> str:
    path = bundle / name
    if not path.is_file():
        raise InputError("missing from the bundle", where=str(path))
    if path.stat().st_size > limit:
        raise InputError(f"larger than {limit} bytes: not a bundle file", where=str(path))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", where=str(path)) from None


def _json(text: str | bytes, where: str) -> Any:
    """Parse JSON; every way it can fail is an ``InputError`` naming ``where``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON ({exc.msg})", where=where) from None
    except (ValueError, RecursionError) as exc:
        # Not JSONDecodeError, so not caught as one: integers beyond Python's digit limit and
        # nesting beyond the recursion limit. Both are hostile input, not a crash.
        reason = "nested too deeply" if isinstance(exc, RecursionError) else "number too long"
        raise InputError(f"invalid JSON ({reason})", where=where) from None


_KINDS: dict[type, str] = {
    int: "an integer",
    str: "a string",
    list: "a list",
    float: "a number",
    bool: "a boolean",
    dict: "an object",
    type(None): "null",
}


def _field(record: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = record.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(f"field '{name}' is missing or not {_KINDS.get(kind, kind.__name__)}", where=where)
    return value


def _decode(value: str, where: str, what: str) -> bytes:
    try:
        # Strict: only the base64 alphabet with correct padding (what b64decode(validate=True)
        # accepts, minus its leniency about excess padding), in one C call per proof node.
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{what} is not base64", where=where) from None


def _proof_element(value: object, number: int, where: str) -> bytes:
    if not isinstance(value, str):
        kind = _KINDS.get(type(value), type(value).__name__)
        raise InputError(f"field 'proof' element {number} is {kind}, not a base64 string", where=where)
    return _decode(value, where, f"proof element {number}")


def _entries(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    if not path.is_file():
        raise InputError("missing from the bundle", where=str(path))
    with path.open("rb") as handle:
        number = 0
        # Bounded reads: a hostile bundle could hold one line of many gigabytes.
        while raw := handle.readline(MAX_LINE + 1):
            number += 1
            where = f"{path}:{number}"
            if len(raw) > MAX_LINE:
                raise InputError(f"line is longer than {MAX_LINE} bytes", where=where)
            if not raw.endswith(b"\n"):
                raise InputError("last line is cut off (truncated bundle)", where=where)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError("not UTF-8 text", where=where) from None
            record = _json(line, where)
            if not isinstance(record, dict):
                raise InputError("expected a JSON object", where=where)
            yield where, record


def _open(bundle: Path, trusted_vkey: str | None) -> tuple[dict[str, Any], SignedCheckpoint, Verifier]:
    if not bundle.is_dir():
        raise InputError("not an evidence bundle folder", where=str(bundle))
    manifest = _manifest(bundle)
    try:
        bundled = parse_vkey(_read(bundle, "log.vkey"))
    except LedgerError as exc:  # not a key at all: unreadable input, like a malformed --log-key
        raise InputError(str(exc), where=str(bundle / "log.vkey")) from None
    try:
        trusted = bundled if trusted_vkey is None else parse_vkey(trusted_vkey)
    except LedgerError as exc:  # a malformed key given: bad input, not a failed verification
        raise InputError(str(exc), where="--log-key") from None
    note = _read(bundle, "checkpoint.note")
    if trusted == bundled:
        with naming(bundle / "checkpoint.note"):
            signed = open_checkpoint(note, trusted)
    else:
        signed = _open_rotated(bundle, note, trusted, bundled)
    verifier = bundled
    size = manifest.get("tree_size")
    where = str(bundle / "manifest.json")
    # type() too: 30.0 and true compare equal to 30 and 1, but are not what export writes.
    if type(size) is not int or not isinstance(manifest.get("root"), str):
        raise InputError("tree size or root missing or of the wrong type", where=where)
    if (size, manifest.get("root")) != (signed.tree_size, _b64(signed.root)):
        raise LedgerError(f"{where}: tree size or root differ from the signed checkpoint")
    origin = manifest.get("origin")
    if not isinstance(origin, str):
        raise InputError("'origin' missing or not a string", where=where)
    if origin != signed.checkpoint.origin:
        raise LedgerError(
            f"{where}: origin {origin!r} differs from the signed checkpoint's origin {signed.checkpoint.origin!r}"
        )
    return manifest, signed, verifier


def _manifest(bundle: Path) -> dict[str, Any]:
    where = str(bundle / "manifest.json")
    manifest = _json(_read(bundle, "manifest.json", MAX_MANIFEST), where)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"not a {FORMAT} manifest", where=where)
    return manifest


def _open_rotated(bundle: Path, note: str, trusted: Verifier, bundled: Verifier) -> SignedCheckpoint:
    """Open the checkpoint with a later key the trusted one endorsed through the log's rotations."""
    path = bundle / ROTATIONS
    if not path.is_file():
        raise LedgerError("the bundle's log key is not the key you trust (and the bundle records no key rotation)")
    rotations = rotation.from_published(_json(_read(bundle, ROTATIONS), str(path)), str(path))
    with naming(path):
        history = rotation.periods(rotations, trusted)
    start = next(period.first for period in history if period.verifier == trusted)
    later = [period for period in history if period.first >= start]
    if bundled not in [period.verifier for period in later]:
        raise LedgerError("the bundle's log key is not the key you trust, nor one it endorsed by rotation")
    with naming(bundle / "checkpoint.note"):
        checkpoint = rotation.open_in_history(note, later)
    return SignedCheckpoint(checkpoint=checkpoint, note=note)


def verify_evidence(bundle: Path, *, trusted_vkey: str | None = None) -> EvidenceSummary:
    """Verify every proof of a bundle against its signed checkpoint; raises on any problem."""
    manifest, signed, verifier = _open(bundle, trusted_vkey)
    selection = stated_selection(manifest, str(bundle / "manifest.json"))
    count = 0
    last = -1
    found: set[str] = set()
    for where, record in _entries(bundle / "entries.jsonl"):
        index = _field(record, "index", int, where)
        try:
            leaf = _field(record, "leaf", str, where).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, escaped in the JSON as \ud800
            raise InputError("field 'leaf' is not valid Unicode", where=where) from None
        proof_text = _field(record, "proof", list, where)
        if index <= last:
            # Export writes each entry once, in index order: a line was moved or copied.
            raise LedgerError(f"{where}: entries are not in increasing index order (an entry was moved or repeated)")
        last = index
        digest = leaf_hash(leaf)
        if _decode(_field(record, "leaf_hash", str, where), where, "leaf_hash") != digest:
            raise LedgerError(f"{where}: leaf_hash does not match the leaf")
        try:
            event = AccessEvent.model_validate_json(leaf)
        except ValueError:
            raise InputError("leaf is not a valid access event", where=where) from None
        proof = [_proof_element(p, number, where) for number, p in enumerate(proof_text)]
        try:
            verify_inclusion(leaf_hash=digest, index=index, size=signed.tree_size, proof=proof, root=signed.root)
        except LedgerError as exc:
            raise LedgerError(f"{where}: entry {index} is not in the signed log ({exc})") from None
        selection.check(event, index=index, where=where)
        found.add(event.event_id)
        count += 1
    if type(manifest.get("entries")) is not int:
        raise InputError("'entries' is missing or not a count", where=str(bundle / "manifest.json"))
    if manifest["entries"] != count:
        raise LedgerError(
            f"{bundle / 'entries.jsonl'}: manifest lists {manifest['entries']} entries, the bundle holds {count} "
            "(entries were removed or added)"
        )
    selection.check_accounted(found, where=str(bundle / "manifest.json"))
    unchecked = tuple(sorted(path.name for path in bundle.iterdir() if path.name not in (*FILES, ROTATIONS)))
    return EvidenceSummary(
        count, signed.tree_size, signed.root, verifier.name, verifier.key_id.hex(), unchecked, selection
    )


def entry_event_ids(bundle: Path) -> set[str]:
    """The event ids of a bundle's entries (read from each leaf; run after ``verify_evidence``)."""
    ids: set[str] = set()
    for where, record in _entries(bundle / "entries.jsonl"):
        leaf = _json(_field(record, "leaf", str, where), f"{where}: leaf")
        if not isinstance(leaf, dict) or not isinstance(leaf.get("event_id"), str):
            raise InputError("leaf is not a valid access event", where=where)
        ids.add(leaf["event_id"])
    return ids


def check_cited(bundle: Path, cited: Iterable[tuple[str, str]]) -> None:
    """Refuse a bundle in which an event id that something cites is neither an entry nor listed as missing.

    ``cited``: pairs of (event id, what cites it), e.g. ``("01J…", "case.json history entry 3")``:
    the ledger events an investigation's ``case.json`` history and evidence name. Run after
    ``verify_evidence``; raises ``LedgerError`` (a tampered bundle: entries were removed) naming
    the ids and what cites them.
    """
    where = str(bundle / "manifest.json")
    missing = stated_selection(_manifest(bundle), where).missing_ids
    held = entry_event_ids(bundle)
    gone = {event_id: what for event_id, what in cited if event_id not in held and event_id not in missing}
    if gone:
        said = named([f"{event_id} (cited by {what})" for event_id, what in gone.items()])
        raise LedgerError(
            f"{bundle}: {len(gone)} cited event id(s) are neither in entries.jsonl nor listed as missing in "
            f"manifest.json: {said}; entries were removed from the bundle"
        )
