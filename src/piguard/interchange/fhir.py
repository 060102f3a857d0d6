"""FHIR R4 ``AuditEvent`` bundles -> access events (FORMATS.md §1).

Mapping (documented in docs/detection.md, "FHIR AuditEvent"):

| AccessEvent | AuditEvent (R4) |
|---|---|
| ``event_id`` | ``id`` (else the bundle entry's ``fullUrl``) |
| ``time`` | ``recorded`` (must carry an offset) |
| ``user_id`` | the agent with ``requestor: true``: ``who.identifier.value``, else ``who.reference`` |
| ``role`` | that agent's ``role[0].coding[0].code`` (else ``type.coding[0].code``), lower-cased |
| ``org_id`` | agent ``who`` = ``Organization/<id>``, else ``source.site``, else ``source.observer`` |
| ``terminal_id`` / ``source_ip`` | requestor ``network.address``: type ``1`` (machine name) / ``2`` (IP) |
| ``session_id`` | extension-free systems have none; ``entity`` of type ``session`` if present |
| ``action`` | ``subtype`` code (``search*`` -> ``search``, ``export``, ``print``, ``break-glass``, ...); |
| | else ``action`` C/R/U/D/E -> ``create``/``read``/``update``/``update``/``read`` |
| ``subject_id`` | ``entity.what.reference`` ``Patient/<id>`` (or any ``*/<id>`` of role ``1`` Patient, |
| | or that entity's ``what.identifier.value``) |
| ``resource_type`` / ``resource_id`` | the first other ``entity.what.reference`` ``Type/<id>`` |

References may be relative or absolute (``https://host/fhir/Patient/P1``); a version
(``/_history/N``) is dropped. ``entity.role`` / ``entity.type`` are R4 Codings
(``{"system": ..., "code": "1"}``); the CodeableConcept shape (``{"coding": [...]}``) is read too.
| ``purpose`` | ``purposeOfEvent[0].coding[0].code`` (HL7 v3 ActReason) |
| ``outcome`` | ``outcome`` ``0`` -> ``allowed``; ``4``/``8``/``12`` -> ``denied`` |
| ``reason`` | ``outcomeDesc`` |
| ``query`` | ``entity.query`` (base64, decoded as UTF-8) |

Entries that are not AuditEvents are ignored; an AuditEvent that cannot be mapped raises
``InterchangeError`` naming the bundle file and entry index.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from piguard.errors import InterchangeError, validation_reason
from piguard.interchange.events import AccessEvent
from piguard.interchange.tabular import json_document

_ACTIONS = {"C": "create", "R": "read", "U": "update", "D": "update", "E": "read"}
_SUBTYPES = {
    "search": "search",
    "search-type": "search",
    "search-system": "search",
    "export": "export",
    "print": "print",
    "read": "read",
    "vread": "read",
    "create": "create",
    "update": "update",
    "patch": "update",
    "login": "login",
    "logout": "logout",
    "break-glass": "breakglass",
    "breakglass": "breakglass",
}


def _first_code(concept: Any) -> str | None:
    """The code of a Coding (``{"code": ...}``, R4's ``entity.role``/``type``) or a CodeableConcept."""
    if not isinstance(concept, dict):
        return None
    if concept.get("code"):
        return str(concept["code"])
    for coding in concept.get("coding", []) or []:
        if isinstance(coding, dict) and coding.get("code"):
            return str(coding["code"])
    return None


def _ref_id(reference: Any) -> tuple[str, str] | None:
    """``(Type, id)`` of a relative or absolute reference, its ``/_history/N`` version dropped."""
    if isinstance(reference, dict) and isinstance(reference.get("reference"), str):
        parts = reference["reference"].rstrip("/").split("/")
        # ``Patient/P1/_history/3`` names version 3 of Patient/P1, not a resource "_history".
        if len(parts) >= 4 and parts[-2] == "_history":
            parts = parts[:-2]
        if len(parts) >= 2 and parts[-2] and parts[-1]:
            return parts[-2], parts[-1]
    return None


def _identifier_value(reference: Any) -> str | None:
    """``identifier.value`` of a logical reference (no literal ``reference``)."""
    identifier = reference.get("identifier") if isinstance(reference, dict) else None
    value = identifier.get("value") if isinstance(identifier, dict) else None
    return str(value) if value else None


def _who(agent: dict[str, Any]) -> str | None:
    who = agent.get("who") or {}
    identifier = who.get("identifier") or {}
    if identifier.get("value"):
        return str(identifier["value"])
    return str(who["reference"]) if who.get("reference") else None


def audit_event_to_access_event(resource: dict[str, Any], *, where: str, fallback_id: str | None = None) -> AccessEvent:
    """Map one AuditEvent resource (as parsed JSON) to an ``AccessEvent``."""
    agents = [a for a in resource.get("agent", []) or [] if isinstance(a, dict)]
    requestor = next((a for a in agents if a.get("requestor")), None)
    if requestor is None:
        raise InterchangeError("AuditEvent has no agent with requestor=true", where=where)
    org = next((r[1] for a in agents if (r := _ref_id(a.get("who"))) and r[0] == "Organization"), None)
    source = resource.get("source") or {}
    org = (
        org
        or (_ref_id(source.get("site")) or (None, None))[1]
        or source.get("site")
        or (_ref_id(source.get("observer")) or (None, None))[1]
    )
    roles = requestor.get("role") or []
    role = _first_code(roles[0]) if roles else None
    role = role or _first_code(requestor.get("type"))
    network = requestor.get("network") or {}
    terminal = network.get("address") if str(network.get("type")) == "1" else None
    source_ip = network.get("address") if str(network.get("type")) == "2" else None
    subtypes = [c for c in (resource.get("subtype") or []) if isinstance(c, dict)]
    action = next((_SUBTYPES[c["code"]] for c in subtypes if c.get("code") in _SUBTYPES), None)
    action = action or _ACTIONS.get(str(resource.get("action", "R")), "read")
    subject = resource_type = resource_id = query = session = None
    for entity in resource.get("entity", []) or []:
        if not isinstance(entity, dict):
            continue
        ref = _ref_id(entity.get("what"))
        is_patient = _first_code(entity.get("role")) == "1"  # object-role 1 = Patient
        if subject is None and ref and (ref[0] == "Patient" or is_patient):
            subject = ref[1]
        elif subject is None and ref is None and is_patient and (value := _identifier_value(entity.get("what"))):
            subject = value
        elif ref and resource_type is None:
            resource_type, resource_id = ref
        if _first_code(entity.get("type")) == "session" and entity.get("name"):
            session = str(entity["name"])
        if entity.get("query"):
            try:
                query = base64.b64decode(entity["query"]).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise InterchangeError("entity.query is not base64 UTF-8", where=where) from None
    purposes = resource.get("purposeOfEvent") or []
    outcome = str(resource.get("outcome", "0"))
    record = {
        "event_id": resource.get("id") or fallback_id,
        "time": resource.get("recorded"),
        "user_id": _who(requestor),
        "role": role.lower() if role else None,
        "org_id": org,
        "terminal_id": terminal,
        "session_id": session,
        "source_ip": source_ip,
        "action": action,
        "resource_type": resource_type.lower() if resource_type else None,
        "resource_id": resource_id,
        "subject_id": subject,
        "purpose": _first_code(purposes[0]) if purposes else None,
        "outcome": "allowed" if outcome == "0" else "denied",
        "reason": resource.get("outcomeDesc"),
        "query": query,
    }
    try:
        return AccessEvent.model_validate({k: v for k, v in record.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "resource"
        reason = validation_reason(first)
        raise InterchangeError(f"field '{field}' (after FHIR mapping): {reason}", where=where) from None


def read_fhir_bundle(path: Path) -> Iterator[AccessEvent]:
    """Read a FHIR R4 Bundle (JSON) and yield its AuditEvents as access events."""
    for where, resource, full_url in audit_event_entries(path):
        yield audit_event_to_access_event(resource, where=where, fallback_id=full_url)


def audit_event_entries(path: Path) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """``(where, resource, fullUrl)`` of every AuditEvent entry of a bundle, not yet mapped.

    A caller that quarantines bad events maps each one itself; other entries (Patient, ...)
    are not events and are passed over.
    """
    try:
        bundle = json_document(path.read_text(encoding="utf-8"), where=str(path))
    except OSError as exc:
        raise InterchangeError(f"cannot read file: {exc.strerror}", where=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InterchangeError("not a JSON document", where=str(path)) from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InterchangeError("expected a FHIR Bundle (resourceType 'Bundle')", where=str(path))
    for index, entry in enumerate(bundle.get("entry", []) or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "AuditEvent":
            full_url = entry.get("fullUrl")
            yield f"{path}#entry[{index}]", resource, str(full_url) if full_url else None
