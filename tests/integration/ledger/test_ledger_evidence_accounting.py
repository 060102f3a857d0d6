"""Evidence bundles selected by event id account for every id asked for; the manifest must agree
with the signed checkpoint; malformed bundle input is bad input (exit 2), not a failed proof."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.errors import InputError, LedgerError
from piguard.ledger import evidence, service
from tests.integration.ledger.audit_cli import run

ASKED = ["ev-00000003", "ev-00000010", "ev-00000017", "ev-from-another-log", "ev-00000024", "ev-00000005"]


def _export(settings: Settings, out: Path, event_ids: list[str]) -> None:
    engine = make_engine(settings)
    with make_session_factory(engine)() as session, session.begin():
        service.bind_settings(session, settings)
        evidence.export_evidence(session=session, out=out, settings=settings, event_ids=event_ids)
    engine.dispose()


def _manifest(bundle: Path) -> dict[str, Any]:
    return dict(json.loads((bundle / "manifest.json").read_text()))


def _write_manifest(bundle: Path, manifest: dict[str, Any]) -> None:
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _drop_entry(bundle: Path, number: int) -> str:
    """Remove line ``number`` of entries.jsonl and decrement the manifest's count; returns its event id."""
    lines = (bundle / "entries.jsonl").read_text().splitlines(keepends=True)
    dropped = json.loads(json.loads(lines[number])["leaf"])["event_id"]
    (bundle / "entries.jsonl").write_text("".join(lines[:number] + lines[number + 1 :]))
    manifest = _manifest(bundle)
    manifest["entries"] -= 1
    _write_manifest(bundle, manifest)
    return str(dropped)


def _verify(settings: Settings, bundle: Path) -> tuple[int, str]:
    return run("verify-evidence", str(bundle), "--log-key", service.log_verifier(settings).vkey())


def test_a_bundle_by_event_id_lists_every_id_and_verifies(installed_on: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    _export(installed_on, bundle, [*ASKED, "ev-00000003"])  # a repeated id is asked for once
    selection = _manifest(bundle)["selection"]
    assert selection["event_ids"] == ASKED
    assert selection["missing"] == ["ev-from-another-log"]
    code, out = _verify(installed_on, bundle)
    assert code == 0, out
    assert "verified: 5 events" in out
    assert "6 event ids asked for, 1 not in the log" in out


def test_an_entry_dropped_with_the_count_is_refused_naming_the_id(installed_on: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    _export(installed_on, bundle, ASKED)
    dropped = _drop_entry(bundle, 2)
    code, out = _verify(installed_on, bundle)
    assert code == 3, out
    assert f"event ids asked for but neither in entries.jsonl nor listed as missing: {dropped} (1 of 6)" in out
    assert "verified" not in out


def test_an_older_manifest_that_states_only_the_count_is_checked_by_count(
    installed_on: Settings, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    _export(installed_on, bundle, ASKED)
    manifest = _manifest(bundle)
    manifest["selection"]["event_ids"] = len(ASKED)  # as bundles made before the ids were listed
    _write_manifest(bundle, manifest)
    assert _verify(installed_on, bundle)[0] == 0
    for number in (0, 0, 0):
        _drop_entry(bundle, number)
    code, out = _verify(installed_on, bundle)
    assert code == 3, out
    assert "6 event ids were asked for, but the bundle holds 2 of them and lists 1 as missing: 3 unaccounted for" in out


def test_a_manifest_that_contradicts_its_entries_is_refused(installed_on: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    _export(installed_on, bundle, ASKED)
    original = _manifest(bundle)
    # An entry listed as missing as well, to hide that it was dropped: the entry is still there.
    _write_manifest(bundle, {**original, "selection": {**original["selection"], "missing": ASKED[3:5]}})
    code, out = _verify(installed_on, bundle)
    assert (code, "event_id (listed as missing)" in out) == (3, True), out
    # Listed as missing but never asked for.
    _write_manifest(bundle, {**original, "selection": {**original["selection"], "missing": ["ev-x"]}})
    code, out = _verify(installed_on, bundle)
    assert (code, "lists event ids that were not asked for (ev-x)" in out) == (3, True), out
    # An entry whose id was not asked for (taken from another export).
    _write_manifest(bundle, {**original, "selection": {**original["selection"], "event_ids": ASKED[1:]}})
    code, out = _verify(installed_on, bundle)
    assert (code, "event_id (not one asked for)" in out) == (3, True), out
    # Ids that are not strings, or a count that is not one: unreadable, not tampered.
    _write_manifest(bundle, {**original, "selection": {**original["selection"], "event_ids": [1, 2]}})
    code, out = _verify(installed_on, bundle)
    assert (code, "selection 'event_ids' must be a list of event id strings" in out) == (2, True), out


def test_check_cited_names_an_event_the_bundle_no_longer_accounts_for(installed_on: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    _export(installed_on, bundle, ASKED)
    cited = [(event_id, f"case.json history entry {n}") for n, event_id in enumerate(ASKED, start=1)]
    evidence.verify_evidence(bundle)
    evidence.check_cited(bundle, cited)  # every cited id is an entry or listed as missing
    # The unsigned manifest edited too (the id and the count gone): only what cites the id shows it.
    dropped = _drop_entry(bundle, 1)
    manifest = _manifest(bundle)
    manifest["selection"]["event_ids"].remove(dropped)
    _write_manifest(bundle, manifest)
    evidence.verify_evidence(bundle)
    with pytest.raises(LedgerError) as caught:
        evidence.check_cited(bundle, cited)
    assert f"{dropped} (cited by {dict(cited)[dropped]})" in str(caught.value)
    assert "neither in entries.jsonl nor listed as missing" in str(caught.value)


def test_a_selection_by_event_id_cannot_also_select_by_user(installed_on: Settings, tmp_path: Path) -> None:
    engine = make_engine(installed_on)
    with make_session_factory(engine)() as session, session.begin(), pytest.raises(InputError) as caught:
        evidence.export_evidence(
            session=session, out=tmp_path / "bundle", settings=installed_on, event_ids=ASKED, user_id="u3"
        )
    engine.dispose()
    assert "cannot also select by user" in str(caught.value)


def test_a_manifest_origin_that_differs_from_the_checkpoint_is_refused(installed_on: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    assert run("export-evidence", "--out", str(bundle), "--user", "u3")[0] == 0
    original = _manifest(bundle)
    _write_manifest(bundle, {**original, "origin": "evil.example/log"})
    code, out = _verify(installed_on, bundle)
    assert code == 3, out
    assert "manifest.json: origin 'evil.example/log' differs from the signed checkpoint's origin" in out
    _write_manifest(bundle, {key: value for key, value in original.items() if key != "origin"})
    code, out = _verify(installed_on, bundle)
    assert (code, "manifest.json: 'origin' missing or not a string" in out) == (2, True), out


@pytest.mark.parametrize(("value", "kind"), [(5, "an integer"), (None, "null"), ({"a": 1}, "an object")])
def test_a_proof_element_that_is_not_text_is_bad_input(
    installed: Settings, tmp_path: Path, value: object, kind: str
) -> None:
    bundle = tmp_path / "bundle"
    assert run("export-evidence", "--out", str(bundle), "--user", "u3")[0] == 0
    lines = (bundle / "entries.jsonl").read_text().splitlines(keepends=True)
    record = json.loads(lines[1])
    record["proof"][2] = value
    (bundle / "entries.jsonl").write_text(lines[0] + json.dumps(record) + "\n" + "".join(lines[2:]))
    code, out = _verify(installed, bundle)
    assert code == 2, out
    assert f"entries.jsonl:2: field 'proof' element 2 is {kind}, not a base64 string" in out


def test_a_bundled_key_that_is_not_a_key_is_bad_input(installed: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    assert run("export-evidence", "--out", str(bundle))[0] == 0
    (bundle / "log.vkey").write_text("garbage\n")
    for trusted in ([], ["--log-key", service.log_verifier(installed).vkey()]):
        code, out = run("verify-evidence", str(bundle), *trusted)
        assert code == 2, out
        assert f"{bundle / 'log.vkey'}: verifier key must be 'name+keyid+base64key'" in out
