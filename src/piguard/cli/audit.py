"""``piguard audit``: verify the ledger, checkpoints and keys, exports, evidence, witnessing.

Exit codes: 0 verified/done, 2 bad usage, unreadable input or missing configuration,
3 verification failed (tampering, bad proof or signature, rollback, split view), 1 otherwise.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from piguard.cli.common import console, db_session, err_console, fail, load_settings
from piguard.errors import ConfigError, InputError, LedgerError, PiguardError

# Heavy modules (SQLAlchemy, the ledger) are imported inside the commands so `piguard --help` starts fast.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from piguard.config import Settings
    from piguard.ledger.checkpoint import Verifier
    from piguard.ledger.rotation import StoredRotation

app = typer.Typer(help="Tamper-evident audit ledger: verify, prove, export, witness.", no_args_is_help=True)

FromOpt = Annotated[str | None, typer.Option("--from", help="Only events at or after this RFC 3339 time.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Only events before this RFC 3339 time.")]
UserOpt = Annotated[str | None, typer.Option("--user", help="Only events of this user id.")]
SubjectOpt = Annotated[str | None, typer.Option("--subject", help="Only events about this subject id.")]


@contextmanager
def _errors() -> Iterator[None]:
    """Turn every expected failure into a one-line message and an exit code, never a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except typer.Exit:
        raise
    except (InputError, ConfigError) as exc:
        raise fail(str(exc), code=2) from None
    except LedgerError as exc:
        raise fail(str(exc), code=3) from None
    except PiguardError as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        # The driver's message may quote SQL parameters (record data): show only the kind.
        raise fail(f"database error ({type(exc).__name__}); is the database migrated ('piguard init')?") from None
    except OSError as exc:
        raise fail(f"{exc.strerror or 'I/O error'}: {exc.filename or ''}", code=2) from None


def _time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError("not an RFC 3339 time", where=option) from None
    if parsed.tzinfo is None:
        raise InputError("time needs an explicit UTC offset, e.g. +08:00 or Z", where=option)
    return parsed


def _window(time_from: str | None, time_to: str | None) -> tuple[datetime | None, datetime | None]:
    """``--from`` and ``--to`` parsed; a window that ends before it starts is an error, not 0 events."""
    start, end = _time(time_from, "--from"), _time(time_to, "--to")
    if start is not None and end is not None and start > end:
        raise InputError("is later than --to: the window selects nothing", where="--from")
    return start, end


def _described(user: str | None, subject: str | None, start: datetime | None, end: datetime | None) -> str:
    """The selection as one line (the ``query`` of the operator's export event)."""
    parts = [
        f"{name}={value if isinstance(value, str) else value.isoformat()}"
        for name, value in (("user", user), ("subject", subject), ("from", start), ("to", end))
        if value is not None
    ]
    return " ".join(parts) or "all events"


def _record_export(session: Session, *, what: str, selection: str, count: int, subject: str | None) -> None:
    """Record the operator's export in the ledger: disclosing access history is an access too."""
    from piguard.db.base import utcnow
    from piguard.identity.audit import record_operator_disclosure

    record_operator_disclosure(
        session,
        at=utcnow(),
        action="export",
        resource_type="ledger",
        selection=selection,
        count=count,
        subject_id=subject,
        reason=f"{what} by the operator on the server's command line",
    )


@contextmanager
def _removed_on_failure(out: Path, names: tuple[str, ...] = ()) -> Iterator[None]:
    """Leave nothing behind if the export fails: no disclosure without its ledger event.

    ``names``: the files of a bundle folder (the folder is removed too if this export made it).
    """
    made = not out.exists()
    before = None if made or not out.is_file() else out.stat().st_mtime_ns
    try:
        yield
    except BaseException:
        if not names:
            if out.is_file() and (made or out.stat().st_mtime_ns != before):  # written by this export
                out.unlink()
        elif out.is_dir():
            for name in names:
                (out / name).unlink(missing_ok=True)
            if made and not any(out.iterdir()):
                out.rmdir()
        raise


def _log_key(value: str) -> Verifier:
    """The key ``--log-key`` gives (a verifier key, or a file holding one); exit 2 naming what is wrong."""
    from piguard.ledger.checkpoint import parse_vkey

    path = Path(value)
    if path.is_file():
        try:
            text, where = path.read_text(encoding="utf-8").strip(), f"--log-key file {path}"
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the key file ({type(exc).__name__})", where=f"--log-key {path}") from None
    elif "+" not in value:  # every verifier key is name+keyid+base64key
        raise InputError(f"no such file: {value} (and not a verifier key name+keyid+base64key)", where="--log-key")
    else:
        text, where = value.strip(), "--log-key"
    try:
        return parse_vkey(text)
    except LedgerError as exc:
        raise InputError(str(exc), where=where) from None


def _with_session(settings: Settings, work: Callable[[Session], Any], *, snapshot: bool = False) -> Any:
    """Run ``work`` in one transaction; ``snapshot``: read-only, on one consistent snapshot."""
    from piguard.db.snapshot import begin_read_snapshot
    from piguard.ledger import service

    with db_session(settings) as session, session.begin():
        if snapshot:
            begin_read_snapshot(session)  # the service may be appending meanwhile
        service.bind_settings(session, settings)
        return work(session)


@app.command("pubkey")
def pubkey() -> None:
    """Print the log's verifier key (name+keyid+base64 Ed25519 public key); a retired key is refused."""
    from sqlalchemy.exc import SQLAlchemyError

    from piguard.ledger import rotation, service

    with _errors():
        settings = load_settings()
        verifier = service.log_verifier(settings)
        try:
            # A key file restored from before a rotation holds a key that signs nothing: not one to publish.
            _with_session(settings, lambda s: rotation.check_not_retired(s, verifier), snapshot=True)
        except SQLAlchemyError:
            err_console.print(
                "[bold yellow]warning[/]: the database could not be read, so the key was not checked against "
                "the log's key rotations",
                highlight=False,
            )
        console.print(verifier.vkey(), highlight=False, soft_wrap=True)


@app.command("checkpoint")
def checkpoint() -> None:
    """Sign and store a checkpoint of the current tree now; print its note."""
    from piguard.ledger import service

    with _errors():
        signed = _with_session(load_settings(), lambda s: service.checkpoint(session=s))
        typer.echo(signed.note, nl=False)


@app.command("rotate-key")
def rotate_key(
    finish: Annotated[
        bool, typer.Option("--finish", help="Only complete (or undo) a rotation that was interrupted.")
    ] = False,
) -> None:
    """Retire the checkpoint signing key for a new one; the old key endorses the new one."""
    from piguard.ledger import rotation

    with _errors():
        settings = load_settings()
        settled = _with_session(settings, lambda s: rotation.finish_interrupted(session=s, settings=settings))
        if settled is not None:
            done = "completed" if settled else "undone (it had not committed)"
            console.print(f"an interrupted key rotation was {done}", highlight=False)
        if finish:
            return
        try:
            made = _with_session(settings, lambda s: rotation.rotate(session=s, settings=settings))
        except BaseException:
            rotation.discard_pending(settings)
            raise
        rotation.replace_key_file(settings)
    console.print(f"rotated at tree size {made.tree_size}", highlight=False)
    console.print(f"retired key: {made.old.vkey()}", highlight=False, soft_wrap=True)
    console.print(f"new key:     {made.new.vkey()}", highlight=False, soft_wrap=True)
    console.print(
        "publish the new key beside the old one; witnesses and verifiers that pinned the old key "
        "follow the rotation ('piguard audit keys')",
        highlight=False,
    )


@app.command("keys")
def keys(
    log_key: Annotated[
        str | None,
        typer.Option("--log-key", help="A key you trust (string or file): check the history from it."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The rotations as JSON, for witnesses and auditors.")] = False,
) -> None:
    """The signing keys of the log's history, each with the tree sizes it signs (exit 3 if broken)."""
    from piguard.ledger import rotation

    with _errors():
        settings = load_settings()
        trusted = None if log_key is None else _log_key(log_key)
        stored = _with_session(settings, rotation.stored_rotations)
        history = rotation.periods(stored, trusted or _first_key(stored, settings))
    if as_json:
        typer.echo(json.dumps(rotation.published(stored), indent=2))
        return
    for period in history:
        end = "now" if period.last is None else str(period.last)
        console.print(f"{period.verifier.vkey()}  sizes {period.first}..{end}", highlight=False, soft_wrap=True)


def _first_key(stored: list[StoredRotation], settings: Settings) -> Verifier:
    from piguard.ledger import service
    from piguard.ledger.checkpoint import parse_vkey

    return parse_vkey(stored[0].old_vkey) if stored else service.log_verifier(settings)


@app.command("verify")
def verify(
    log_key: Annotated[
        str | None,
        typer.Option(
            "--log-key",
            help="The log's published verifier key (string or file): check the checkpoints against it, "
            "not against the key file (which whoever controls the server can replace).",
        ),
    ] = None,
) -> None:
    """Recompute the whole tree and check every stored node and checkpoint (exit 3 on tampering)."""
    from piguard.ledger import service
    from piguard.ledger.audit import verify_ledger

    with _errors():
        settings = load_settings()
        verifier = service.log_verifier(settings) if log_key is None else _log_key(log_key)
        report, warnings = _with_session(
            settings,
            lambda s: (verify_ledger(session=s, verifier=verifier), _key_warnings(s, settings, verifier)),
            snapshot=True,
        )
    for warning in warnings:
        console.print(f"[bold yellow]warning[/]: {warning}", highlight=False, soft_wrap=True)
    console.print(
        f"ledger: {report.entries} entries stored, tree size {report.tree_size}, "
        f"{report.checkpoints} signed checkpoints checked",
        highlight=False,
    )
    console.print(f"root:   {base64.b64encode(report.root).decode()}", highlight=False)
    if report.ok:
        console.print("verified: every entry, tree node and checkpoint is consistent", highlight=False)
        return
    first = report.first
    assert first is not None
    if first.index is not None:
        where = f"entry {first.index}"
    elif first.kind == "rewritten_node":  # a stray node over entries that do not exist
        where = "a stored tree node beyond the log"
    elif "checkpoint" in first.kind:  # other findings about no entry: checkpoints, key history, head row
        where = "checkpoints"
    else:
        where = "the key history" if first.kind == "bad_key_rotation" else "the ledger head"
    console.print(
        f"[bold red]TAMPERING DETECTED[/] ({len(report.findings)} findings); first divergence at {where}: {first.kind}",
        highlight=False,
    )
    for finding in sorted(report.findings, key=lambda f: (f.index is None, f.index or 0)):
        console.print(f"  {finding.kind}: {finding.detail}", highlight=False)
    raise typer.Exit(3)


def _key_warnings(session: Session, settings: Settings, verifier: Verifier) -> list[str]:
    """Why checking with ``verifier`` may not protect the present against a leaked retired key.

    The rotation records live in the same database as the checkpoints: whoever can write to it
    and holds a retired key can delete the rotation and re-sign later checkpoints with that key,
    and a check trusting the retired key then passes. Only the current key (published at the
    rotation) or a witness that followed the rotation shows it; say so when ``verifier`` is not it.
    """
    from piguard.ledger import rotation, service

    given = verifier.key_id.hex()
    advice = (
        "verify with the current key, published at the last rotation ('piguard audit pubkey' on the server), "
        "or compare with a witness that followed the rotation"
    )
    warnings: list[str] = []
    try:
        history = rotation.periods(rotation.stored_rotations(session), verifier)
    except PiguardError:
        history = []  # a broken or foreign chain: verify itself reports it
    retired = next((p for p in history if p.verifier == verifier and p.last is not None), None)
    if retired is not None:
        warnings.append(
            f"the key you verify with (key id {given}) was retired at tree size {retired.last}: the later history is "
            "trusted only through the rotation record stored in the database, and whoever can write to the database "
            "and holds a leaked copy of the retired key can delete that record and re-sign a rewritten history "
            f"with it, which this check would pass; {advice}"
        )
    try:
        current = service.public_verifier(settings)
    except PiguardError:
        return warnings  # no key file and no saved public key: nothing to compare with
    latest = history[-1].verifier if history else verifier
    server = next((p for p in history if p.verifier == current), None)
    if current == latest:
        return warnings
    if server is not None and server.last is not None:
        # The key file holds a key of the chain that a rotation retired: a restored backup.
        warnings.append(
            f"the server's key file holds key id {current.key_id.hex()}, which a stored key rotation retired at "
            f"tree size {server.last}; the log's current key is key id {latest.key_id.hex()}: the key file was "
            "restored from a copy made before the rotation, and nothing is signed until the current key is put back"
        )
    else:
        warnings.append(
            f"the key you verify with (key id {given}) is not the server's current signing key "
            f"(key id {current.key_id.hex()}), and no stored key rotation leads to it: either the key file was "
            f"replaced, or a rotation record was deleted to hide a history re-signed with a retired key; {advice}"
        )
    return warnings


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="Output file: .jsonl, .json, .csv, .parquet (gz ok).")],
    time_from: FromOpt = None,
    time_to: ToOpt = None,
    user: UserOpt = None,
    subject: SubjectOpt = None,
) -> None:
    """Export ledger events in the FORMATS.md access-event format."""
    from piguard.interchange.events import EVENT_COLUMNS, INT_COLUMNS, LIST_COLUMNS
    from piguard.interchange.tabular import write_rows
    from piguard.ledger import service

    with _errors():
        start, end = _window(time_from, time_to)

        def work(session: Session) -> int:
            entries = service.iter_entries(
                session=session, user_id=user, subject_id=subject, time_from=start, time_to=end
            )
            # Each row is the leaf's own object (every entry is still checked to be a valid event):
            # re-reading it through today's model could drop or normalise a value the hashed leaf
            # holds, and the export must be exactly what the log committed to.
            leaves = (json.loads(entry.data) for entry in entries)
            count = write_rows(out, leaves, columns=EVENT_COLUMNS, list_columns=LIST_COLUMNS, int_columns=INT_COLUMNS)
            # After the rows are read: the file holds the log as it was; this event comes next.
            _record_export(
                session,
                what="ledger export",
                selection=_described(user, subject, start, end),
                count=count,
                subject=subject,
            )
            return count

        with _removed_on_failure(out):
            count = _with_session(load_settings(), work)
    console.print(f"wrote {count} events to {out}", highlight=False)


@app.command("export-evidence")
def export_evidence(
    out: Annotated[Path, typer.Option("--out", help="Bundle folder to create.")],
    user: UserOpt = None,
    subject: SubjectOpt = None,
    time_from: FromOpt = None,
    time_to: ToOpt = None,
) -> None:
    """Write an evidence bundle: events, inclusion proofs, signed checkpoint, key, README."""
    from piguard.ledger import evidence

    with _errors():
        settings = load_settings()
        start, end = _window(time_from, time_to)

        def work(session: Session) -> evidence.EvidenceSummary:
            made = evidence.export_evidence(
                session=session,
                out=out,
                settings=settings,
                user_id=user,
                subject_id=subject,
                time_from=start,
                time_to=end,
            )
            _record_export(
                session,
                what=f"evidence bundle (tree size {made.tree_size})",
                selection=_described(user, subject, start, end),
                count=made.entries,
                subject=subject,
            )
            return made

        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise InputError("output folder exists and is not empty", where=str(out))
        with _removed_on_failure(out, (*evidence.FILES, evidence.ROTATIONS)):
            summary = _with_session(settings, work)
    console.print(
        f"wrote {summary.entries} events with proofs to {out} (tree size {summary.tree_size})",
        highlight=False,
    )


@app.command("verify-evidence")
def verify_evidence(
    bundle: Annotated[Path, typer.Argument(help="Evidence bundle folder.")],
    log_key: Annotated[str | None, typer.Option("--log-key", help="Trusted verifier key (string or file).")] = None,
) -> None:
    """Verify an evidence bundle with no database (exit 3 if any proof fails)."""
    from piguard.ledger import evidence

    with _errors():
        trusted = None if log_key is None else _log_key(log_key).vkey()
        summary = evidence.verify_evidence(bundle, trusted_vkey=trusted)
        bundled = (bundle / "log.vkey").read_text(encoding="utf-8").strip() if log_key is None else ""
        history = None
        if "case.json" in summary.unchecked:
            # An investigation's bundle: its history must match the events just verified.
            from piguard.oversight.cases.service import verify_history

            history = verify_history(bundle)
    what = (
        f"{summary.entries} events are in the log '{summary.origin}' "
        f"(tree size {summary.tree_size}, key {summary.key_id})"
    )
    if log_key is None:
        # Anyone can sign a forged log with a key of their own and ship that key in the bundle:
        # without the operator's published key the proofs only show the bundle is self-consistent.
        console.print(f"consistent with the key in the bundle: {what}", highlight=False)
        console.print(
            f"[bold red]NOT VERIFIED[/]: that key ({bundled}) came with the bundle; compare it with the "
            "operator's published key, or pass it with --log-key",
            highlight=False,
        )
    else:
        console.print(f"verified: {what}", highlight=False)
        if summary.endorsed:
            warning = _endorsed_warning(_log_key(log_key).key_id.hex(), summary.endorsed)
            console.print(f"[bold yellow]warning[/]: {warning}", highlight=False, soft_wrap=True)
    if summary.selection is not None:
        console.print(f"selection: {summary.selection.describe()} (every event matches it)", highlight=False)
    if history is not None:
        console.print(f"case history: all {history} entries of case.json match their ledger events", highlight=False)
    if summary.entries == 0:
        console.print("note: the bundle holds no events; it proves nothing about any event", highlight=False)
    unchecked = [name for name in summary.unchecked if history is None or name != "case.json"]
    if unchecked:
        console.print(f"note: not part of the bundle and not checked: {', '.join(unchecked)}", highlight=False)


def _endorsed_warning(trusted: str, endorsed: tuple[tuple[str, int], ...]) -> str:
    """Say that the bundle's key is trusted only through rotations the bundle itself carries."""
    links = ", then ".join(f"key id {key} (brought in at tree size {size})" for key, size in endorsed)
    return (
        "the bundle's key is trusted only through the key rotations in the bundle's own key-rotations.json, "
        f"which lead from the key you trust (key id {trusted}) to {links}. That is safe only if the key you trust "
        "never leaked: whoever holds a leaked copy of it can sign a rotation to a key of their own and ship both "
        "in a bundle. Where you can, verify with the log's current key, published at its rotation"
    )


def _fetch(url: str, *, token: str | None = None, terminal: str | None = None) -> Any:
    import httpx

    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if terminal:
        headers["X-Terminal-Id"] = terminal
    try:
        response = httpx.get(url, headers=headers, timeout=30.0)
    except httpx.HTTPError as exc:
        raise InputError(f"cannot fetch ({type(exc).__name__})", where=url) from None
    if response.status_code != 200:
        raise InputError(f"server answered HTTP {response.status_code}{_problem(response)}", where=url)
    try:
        return response.json()
    except ValueError:
        raise InputError("response is not JSON", where=url) from None


def _problem(response: Any) -> str:
    """The ``title`` and ``detail`` of an RFC 9457 problem answer, if it is one."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    said = [str(body[key]) for key in ("title", "detail") if isinstance(body.get(key), str | int)]
    return f" ({': '.join(said)})" if said else ""


def _note_from(data: Any, where: str) -> str:
    if isinstance(data, dict) and isinstance(data.get("note"), str):
        return str(data["note"])
    raise InputError("expected a JSON object with a 'note' string", where=where)


def _proof_from(data: Any, where: str) -> list[bytes]:
    items = data.get("proof") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(p, str) for p in items):
        raise InputError("expected a JSON object with a 'proof' list of base64 strings", where=where)
    try:
        return [base64.b64decode(p, validate=True) for p in items]
    except ValueError:
        raise InputError("proof element is not base64", where=where) from None


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"invalid JSON ({type(exc).__name__})", where=str(path)) from None


def _read_note_file(path: Path) -> str:
    from piguard.ledger.witness import read_note

    text = read_note(path)  # exact bytes: a CRLF note is refused, not silently converted
    if text.lstrip().startswith("{"):
        try:
            return _note_from(json.loads(text), str(path))
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON ({exc.msg})", where=str(path)) from None
    return text


@app.command("witness")
def witness(
    state: Annotated[Path, typer.Option("--state", help="Folder where this witness keeps what it saw.")],
    checkpoint_url: Annotated[
        str | None, typer.Option("--checkpoint-url", help="URL of GET /api/v1/audit/checkpoint.")
    ] = None,
    checkpoint_file: Annotated[
        Path | None, typer.Option("--checkpoint-file", help="A signed checkpoint note (or its JSON).")
    ] = None,
    log_key: Annotated[
        str | None, typer.Option("--log-key", help="The log's verifier key (string or file); pinned.")
    ] = None,
    consistency_file: Annotated[
        Path | None, typer.Option("--consistency-file", help="JSON {'proof': [...]} from the last size.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="PIGUARD_WITNESS_TOKEN",
            help="Bearer token for the proof requests, only if something in front of the server asks for one "
            "(the consistency-proof route is public).",
        ),
    ] = None,
    terminal: Annotated[
        str | None, typer.Option("--terminal-id", help="X-Terminal-Id sent with --token (not needed without one).")
    ] = None,
    cosign_key: Annotated[
        Path | None, typer.Option("--cosign-key", help="Witness Ed25519 PEM key: add a cosignature.")
    ] = None,
    witness_name: Annotated[str, typer.Option("--witness-name", help="Witness key name.")] = "witness",
    rotations_file: Annotated[
        Path | None,
        typer.Option("--rotations-file", help="The log's key rotations ('piguard audit keys --json')."),
    ] = None,
) -> None:
    """Accept a new checkpoint only if it extends the last one seen (exit 3 if not shown to)."""
    from piguard.ledger import witness as witnessing

    with _errors():
        if (checkpoint_url is None) == (checkpoint_file is None):
            raise InputError("give exactly one of --checkpoint-url and --checkpoint-file")
        if checkpoint_url is not None:
            note = _note_from(_fetch(checkpoint_url), checkpoint_url)
        else:
            assert checkpoint_file is not None
            note = _read_note_file(checkpoint_file)
        verifier = witnessing.log_key(state, None if log_key is None else _log_key(log_key).vkey())
        from piguard.ledger.checkpoint import naming
        from piguard.ledger.rotation import from_published

        source = checkpoint_url or str(checkpoint_file)

        base = None if checkpoint_url is None else checkpoint_url.rsplit("/checkpoint", 1)[0]
        rotations = None
        if rotations_file is not None:
            rotations = from_published(_json_file(rotations_file), str(rotations_file))
        elif base is not None:
            # Always, even when the pinned key signed the note: a rotation may have retired it, and
            # a retired key's signature counts only up to the rotation's tree size.
            url = f"{base}/key-rotations"
            rotations = from_published(_fetch(url), url)
        with naming(source):
            new, _ = witnessing.open_new(note, verifier, rotations)
        old = witnessing.last_seen(state, verifier)
        proof: list[bytes] | None = None
        if old is not None and new.tree_size > old.tree_size:
            if consistency_file is not None:
                proof = _proof_from(_json_file(consistency_file), str(consistency_file))
            elif base is not None:
                url = f"{base}/proofs/consistency?from={old.tree_size}&to={new.tree_size}"
                proof = _proof_from(_fetch(url, token=token, terminal=terminal), url)
        with naming(source):
            seen = witnessing.observe(
                state=state, note=note, verifier=verifier, proof=proof, rotations=rotations, source=source
            )
        if cosign_key is not None:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            try:
                key = serialization.load_pem_private_key(cosign_key.read_bytes(), password=None)
            except (ValueError, TypeError):
                raise InputError("not an unencrypted PEM private key", where=str(cosign_key)) from None
            if not isinstance(key, Ed25519PrivateKey):
                raise InputError("not an Ed25519 private key", where=str(cosign_key))
            cosigned = witnessing.cosign_observed(state=state, note=note, name=witness_name, key=key)
            typer.echo(cosigned, nl=False)
    if seen.previous_size is None:
        before = "first checkpoint seen"
    elif seen.previous_size == seen.size:
        before = "unchanged since the last run"
    else:
        before = f"extends {seen.previous_size}"
    console.print(f"consistent: tree size {seen.size} ({before})", highlight=False)
    if seen.rotated_to is not None:
        console.print(f"the log rotated its key; now pinned: {seen.rotated_to.vkey()}", highlight=False, soft_wrap=True)
