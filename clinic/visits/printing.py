"""A signed visit note as plain values, ready for the print template."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from clinic.domain.visits import AFTERCARE, ENTRY_FIELDS, EntryDetails
from clinic.models import Addendum, Client, Clinic, Visit
from clinic.templating import format_date, format_datetime

# One technique line of the printed note: every entry field as text, and the dose.
PrintedEntry = Mapping[str, str]


def print_entry(entry: EntryDetails) -> PrintedEntry:
    """Return one entry as the text the note prints: each field, and the dose in words."""
    line = {name: _field_text(getattr(entry, name)) for name in ENTRY_FIELDS}
    if entry.pressure is None:
        # Joint mobilisation, heat and cold have no pressure level: none is printed.
        line["pressure"] = "—"
    dose = []
    if entry.repetitions:
        dose.append(f"{entry.repetitions} repetitions")
    if entry.hold_seconds:
        dose.append(f"hold {entry.hold_seconds} s")
    line["dose"] = ", ".join(dose)
    return line


def _field_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(getattr(value, "label", value.value))
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


@dataclass(frozen=True)
class LimitsInForce:
    """The limits a note was signed under, as text (from the snapshot kept at signing)."""

    screening_taken_on: str
    findings: Sequence[str]
    caps: Sequence[str]
    clearances: Sequence[str]
    overrides: Sequence[str]
    entries: Sequence[str]


def limits_in_force(visit: Visit) -> LimitsInForce | None:
    """Return the limits kept when the note was signed, or None (a draft, or an older note)."""
    data: Mapping[str, Any] | None = visit.limits_in_force
    return read_limits(data) if data else None


def read_limits(data: Mapping[str, Any]) -> LimitsInForce:
    """Return a snapshot of limits (as signing keeps it on the note) as text."""
    taken_on = data.get("screening_taken_on")
    findings = []
    for f in data.get("findings", []):
        words = f"{f['label']}: {f['tier'].lower()}; {f['area'].lower()}"
        if f.get("cap"):
            words += f"; {f['cap'].lower()} at most"
        if f.get("cleared"):
            words += " (cleared)"
        findings.append(words)
    clearances = [
        f"{c['finding']}: cleared by {c['given_by']} on {_iso_date(c['given_on'])}"
        + (f", until {_iso_date(c['expires_on'])}" if c.get("expires_on") else "")
        for c in data.get("clearances", [])
    ]
    return LimitsInForce(
        screening_taken_on=_iso_date(taken_on) if taken_on else "No screening",
        findings=findings,
        caps=list(data.get("caps", [])),
        clearances=clearances,
        overrides=[f"{o['finding']}: {o['reason']}" for o in data.get("overrides", [])],
        entries=list(data.get("entries", [])),
    )


def _iso_date(value: str) -> str:
    return format_date(date.fromisoformat(value))


@dataclass(frozen=True)
class PrintedNote:
    """Everything the printed note shows, as text."""

    clinic_name: str
    clinic_address: str
    clinic_phone: str
    client_name: str
    client_born: str
    visit_when: str
    therapist: str
    knees: str
    pain: Sequence[tuple[str, str, str]]
    subjective: str
    observations: str
    palpation: str
    entries: Sequence[PrintedEntry]
    assessment: str
    plan: str
    next_visit: str
    adverse: str
    referral: str
    signed: str
    addenda: Sequence[tuple[str, str, str, str]]
    limits: LimitsInForce | None


def _text(value: int | None) -> str:
    return "—" if value is None else str(value)


def build_printed_note(
    visit: Visit, client: Client, clinic: Clinic, addenda: Sequence[Addendum]
) -> PrintedNote:
    """Turn a visit and its addenda into the plain text the print template lays out."""
    observations = []
    if visit.swelling:
        observations.append(f"Swelling: {visit.swelling.label.lower()}.")
    if visit.flexion_left_degrees is not None:
        observations.append(f"Left knee bends to {visit.flexion_left_degrees} degrees.")
    if visit.flexion_right_degrees is not None:
        observations.append(f"Right knee bends to {visit.flexion_right_degrees} degrees.")
    adverse = visit.adverse_response.label
    if visit.adverse_note:
        adverse += f": {visit.adverse_note}"
    limits = limits_in_force(visit)
    entries = [dict(print_entry(entry.details())) for entry in visit.entries]
    if limits is not None:
        for line, allowed in zip(entries, limits.entries, strict=False):
            line["allowed"] = allowed
    return PrintedNote(
        clinic_name=clinic.name,
        clinic_address=clinic.address,
        clinic_phone=clinic.phone,
        client_name=client.full_name,
        client_born=format_date(client.date_of_birth),
        visit_when=(
            f"{format_date(visit.visit_on)}, {visit.start_time:%H:%M}, "
            f"{visit.length_minutes} minutes"
        ),
        therapist=visit.therapist.full_name,
        knees=visit.knees.label,
        pain=[
            (knee.capitalize(), _text(before), _text(after))
            for knee, before, after in visit.pain_pairs
        ],
        subjective=visit.subjective,
        observations=" ".join(observations),
        palpation=visit.palpation,
        entries=entries,
        assessment=visit.assessment,
        plan=visit.plan,
        next_visit=format_date(visit.next_visit_on),
        adverse=adverse,
        referral=referral_advice(visit, client),
        signed=(
            f"Signed by {visit.therapist.full_name} on {format_datetime(visit.signed_at)}"
            if visit.signed_at
            else "Draft: not signed"
        ),
        addenda=[
            (a.author.full_name, format_datetime(a.created_at), a.reason, a.text) for a in addenda
        ],
        limits=limits,
    )


def referral_advice(visit: Visit, client: Client) -> str:
    """Return the referral to advise after a warning sign, naming the client's doctor."""
    response = visit.adverse_response
    if not response.is_red_flag:
        return ""
    doctor = client.referring_clinician.strip()
    to = f"the client's doctor, {doctor}" if doctor else "the client's own doctor"
    return (
        f"Warning sign recorded. Refer the client to {to}, with this note. "
        f"{response.referral_advice}"
    )


@dataclass(frozen=True)
class AftercareSlip:
    """The aftercare advice given after a visit, as printed on the slip."""

    clinic_name: str
    clinic_phone: str
    client_name: str
    visit_on: str
    advice: Sequence[str]


def build_aftercare_slip(visit: Visit, client: Client, clinic: Clinic) -> AftercareSlip:
    """Return the aftercare slip of a visit as plain text."""
    return AftercareSlip(
        clinic_name=clinic.name,
        clinic_phone=clinic.phone,
        client_name=client.full_name,
        visit_on=format_date(visit.visit_on),
        advice=AFTERCARE,
    )
