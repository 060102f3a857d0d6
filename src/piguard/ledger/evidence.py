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
from piguard.errors import InputError, LedgerError, SignatureError
from piguard.interchange.events import EVENT_COLUMNS, AccessEvent
from piguard.interchange.tabular import UNIQUE_KEYS, RepeatedKeyError
from piguard.ledger import rotation, service, store
from piguard.ledger.canonical import canonical_event
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
   exactly three lines (origin, tree size in decimal, base64 root hash), each ending in a
   newline (LF: a carriage return anywhere makes the note invalid), and no other line. The
   signed bytes are exactly that text, UTF-8, including the newline that ends the root
   line and excluding the blank line. After the blank line each signature line is
   `— <name> base64(4-byte key id || 64-byte Ed25519 signature)` (an em dash, U+2014).
   Check the signature whose name and key id match the key with the public key (a checkpoint
   made when the log rotated its key carries two signature lines; either key's verifies).
   If the bundle has `key-rotations.json`, each rotation's `note` is a checkpoint with one
   extra line `piguard-key-rotation <new key>`, signed by the retired key (`old_key`) and by
   the new one; check both signatures on each, in order. A key retired by the rotation at tree
   size N signs only checkpoints of size N or less, whichever key you trust: refuse a
   checkpoint of a larger tree signed by it. If the key you hold is an earlier key of the log,
   the rotations lead from it to `log.vkey`; but then you trust `log.vkey` only because this
   bundle's own file says so, which is safe only if the key you hold never leaked (whoever has
   a leaked copy can sign a rotation to a key of their own): where you can, check with the
   log's current key, published at its rotation. If the key you hold is a later key than
   `log.vkey`, the rotation your key signed vouches only for the tree of its own size and root,
   not for this smaller one (that needs a consistency proof the bundle does not carry): ask the
   operator for a bundle signed by the current key.
3. For each line of `entries.jsonl`: the leaf bytes are the UTF-8 encoding of `leaf`, which must
   be exactly the RFC 8785 canonical JSON of the access event (no spaces, members sorted, each
   field once and in its type: a count is a number, `fields` a list). Its leaf hash is
   SHA-256(0x00 || leaf bytes), the RFC 9162 section 2.1.1 leaf hash, and must equal the base64
   `leaf_hash`. `index` is the leaf's position in the log, counted from 0. With the base64
   `proof` hashes, recompute the root (RFC 9162 section 2.1.3.2, node hash
   SHA-256(0x01 || left || right)) for leaf `index` in a tree of `tree_size` leaves and
   compare it with the root in the checkpoint. Any RFC 9162 /
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
    #: Key ids trusted only through the bundle's own ``key-rotations.json`` (each with the tree
    #: size of the rotation that brought it in): sound only if the key given never leaked.
    endorsed: tuple[tuple[str, int], ...] = ()


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
        # Bytes, decoded as they are: read_text would turn a CRLF note into an LF one that verifies.
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", where=str(path)) from None


def _json(text: str, where: str) -> Any:
    """Parse JSON; every way it can fail is an ``InputError`` naming ``where``."""
    if text.startswith("\ufeff"):
        raise InputError("invalid JSON (it starts with a byte order mark)", where=where)
    try:
        # Unique keys: with a repeated one, json keeps the last and the reader cannot tell which was meant.
        return UNIQUE_KEYS.decode(text)
    except RepeatedKeyError as exc:
        raise InputError(
            f"invalid JSON (key '{exc.key[:64]}' appears more than once in one object)", where=where
        ) from None
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


def _leaf_event(text: str, leaf: bytes, where: str) -> AccessEvent:
    """The access event of a leaf that is exactly what the ledger stores: its RFC 8785 canonical JSON.

    Anything else could be read more than one way (a repeated field name: the last wins), or
    holds a value the model would coerce (``"5"`` for a count, a string for a list of field
    names), or a field that is not an event's: refused naming the line, as unreadable input.
    """
    try:
        value = UNIQUE_KEYS.decode(text)
    except RepeatedKeyError as exc:
        raise InputError(
            f"leaf names the field '{exc.key[:64]}' more than once (which value is meant is unknown)", where=where
        ) from None
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; so are over-long numbers
        raise InputError("leaf is not JSON", where=where) from None
    if not isinstance(value, dict):
        raise InputError("leaf is not a valid access event", where=where)
    try:
        event = AccessEvent.model_validate(value)
        canonical = canonical_event(event)
    except (ValueError, InputError):  # pydantic's ValidationError is a ValueError
        raise InputError("leaf is not a valid access event", where=where) from None
    if canonical != leaf:
        raise InputError(_not_canonical(value, event), where=where)
    return event


def _not_canonical(value: dict[str, Any], event: AccessEvent) -> str:
    """Why a valid event's leaf is not the canonical JSON the ledger stores (field names only, no values)."""
    record = event.to_record()
    unknown = sorted(name for name in value if name not in EVENT_COLUMNS)
    differ = [
        name
        for name in EVENT_COLUMNS
        if (name in value or name in record)
        and (value.get(name) != record.get(name) or type(value.get(name)) is not type(record.get(name)))
    ]
    if unknown or differ:
        said = [f"'{name}' is not a field of an access event" for name in unknown[:5]]
        said += [f"'{name}' is not in the type and form the ledger writes" for name in differ[:5]]
        return f"leaf is not the canonical JSON of an access event: {'; '.join(said)}"
    return (
        "leaf is not RFC 8785 canonical JSON (its spacing, member order, escapes or number form differ from the "
        "canonical form each event is stored in)"
    )


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


def _open(bundle: Path, trusted_vkey: str | None) -> tuple[dict[str, Any], Opened]:
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
    opened = _open_signed(bundle, _read(bundle, "checkpoint.note"), trusted, bundled)
    signed = opened.signed
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
    return manifest, opened


def _manifest(bundle: Path) -> dict[str, Any]:
    where = str(bundle / "manifest.json")
    manifest = _json(_read(bundle, "manifest.json", MAX_MANIFEST), where)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"not a {FORMAT} manifest", where=where)
    return manifest


@dataclass(frozen=True, slots=True)
class Opened:
    """The bundle's checkpoint, the key that signed it, and how that key came to be trusted."""

    signed: SignedCheckpoint
    key: Verifier
    #: The keys trusted only because the bundle's own ``key-rotations.json`` leads to them from the
    #: key given, each with the tree size of the rotation that brought it in (oldest first).
    endorsed: tuple[tuple[Verifier, int], ...] = ()


def _rotations(bundle: Path) -> list[rotation.StoredRotation] | None:
    """The bundle's ``key-rotations.json`` (None if it has none); malformed is an error naming it."""
    path = bundle / ROTATIONS
    if not path.exists():
        return None
    return rotation.from_published(_json(_read(bundle, ROTATIONS), str(path)), str(path))


def _open_signed(bundle: Path, note: str, trusted: Verifier, bundled: Verifier) -> Opened:
    """Open the checkpoint with the bundle's key, which must be the trusted one or a later key it endorsed.

    Whatever key is trusted, a signature counts only for the tree sizes of its key's period in the
    rotations the bundle carries: a key retired at tree size N signs sizes up to N (the rotation's
    own checkpoint, signed by both keys), never a larger tree.
    """
    where = bundle / "checkpoint.note"
    rotations = _rotations(bundle)
    if rotations is None:
        if bundled != trusted:
            raise LedgerError("the bundle's log key is not the key you trust (and the bundle records no key rotation)")
        with naming(where):
            return Opened(open_checkpoint(note, trusted), trusted)
    with naming(bundle / ROTATIONS):
        history = rotation.periods(rotations, trusted)  # every link signed by both of its keys
    keys = [period.verifier for period in history]
    if bundled not in keys:
        raise LedgerError(
            f"the bundle's log key is not the key you trust, nor one it endorsed by rotation ({bundle / ROTATIONS})"
        )
    mine, theirs = keys.index(trusted), keys.index(bundled)
    with naming(where):
        signed = open_checkpoint(note, bundled)
    period = history[theirs]
    if not period.covers(signed.tree_size):
        raise SignatureError(
            f"{where}: {rotation.outside(period, signed.tree_size)} ({bundle / ROTATIONS}): a key's signature counts "
            "only for tree sizes up to the rotation that retired it"
        )
    if theirs < mine:
        _check_vouched(where, signed, bundled, rotation.chain(rotations)[mine - 1])
    endorsed = tuple((keys[i], history[i].first) for i in range(mine + 1, theirs + 1))
    return Opened(signed, bundled, endorsed)


def _check_vouched(where: Path, signed: SignedCheckpoint, earlier: Verifier, link: rotation.KeyRotation) -> None:
    """Accept an earlier key's checkpoint only where the rotation the trusted key signed vouches for it.

    That rotation (``link``, which brought the trusted key in) names one tree, its size and root:
    a smaller tree would need a consistency proof to it, which a bundle does not carry, and a
    leaked earlier key could have signed another tree of that size. So only that tree is accepted.
    """
    if (signed.tree_size, signed.root) == (link.tree_size, link.root):
        return
    old = earlier.key_id.hex()
    raise LedgerError(
        f"{where}: signed by key {old} at tree size {signed.tree_size}, an earlier key of the log than the one you "
        f"trust (key id {link.new.key_id.hex()}, brought in at tree size {link.tree_size}). The rotation your key "
        f"signed vouches only for the tree of size {link.tree_size} (root {_b64(link.root)}), and this bundle has "
        f"no consistency proof from size {signed.tree_size} to {link.tree_size}: nothing shows its tree is part of "
        f"that history (a leaked copy of key {old} could have signed another). Verify it with key {old} if you "
        "obtained that key from the operator while it was current, or ask the operator for a new bundle of these "
        "events, signed by the current key ('piguard audit export-evidence')"
    )


def verify_evidence(bundle: Path, *, trusted_vkey: str | None = None) -> EvidenceSummary:
    """Verify every proof of a bundle against its signed checkpoint; raises on any problem."""
    manifest, opened = _open(bundle, trusted_vkey)
    signed, verifier = opened.signed, opened.key
    selection = stated_selection(manifest, str(bundle / "manifest.json"))
    count = 0
    last = -1
    found: set[str] = set()
    seen: dict[str, int] = {}  # event id -> its entry's index
    for where, record in _entries(bundle / "entries.jsonl"):
        index = _field(record, "index", int, where)
        text = _field(record, "leaf", str, where)
        try:
            leaf = text.encode("utf-8")
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
        event = _leaf_event(text, leaf, where)
        proof = [_proof_element(p, number, where) for number, p in enumerate(proof_text)]
        try:
            verify_inclusion(leaf_hash=digest, index=index, size=signed.tree_size, proof=proof, root=signed.root)
        except LedgerError as exc:
            raise LedgerError(f"{where}: entry {index} is not in the signed log ({exc})") from None
        selection.check(event, index=index, where=where)
        if event.event_id in seen:
            # Each access is one event: a second leaf with its id counts it twice (a replayed append).
            raise LedgerError(
                f"{where}: event {event.event_id} is also entry {seen[event.event_id]}: the log holds it twice"
            )
        seen[event.event_id] = index
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
        count,
        signed.tree_size,
        signed.root,
        verifier.name,
        verifier.key_id.hex(),
        unchecked,
        selection,
        tuple((key.key_id.hex(), size) for key, size in opened.endorsed),
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
