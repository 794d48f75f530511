"""A signed visit note as plain values, ready for the print template."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from clinic.domain.visits import ENTRY_FIELDS, EntryDetails
from clinic.models import Addendum, Client, Clinic, Visit
from clinic.templating import format_date, format_datetime

# One technique line of the printed note: every entry field as text, and the dose.
PrintedEntry = Mapping[str, str]


def print_entry(entry: EntryDetails) -> PrintedEntry:
    """Return one entry as the text the note prints: each field, and the dose in words."""
    line = {name: _field_text(getattr(entry, name)) for name in ENTRY_FIELDS}
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
    signed: str
    addenda: Sequence[tuple[str, str, str, str]]


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
        entries=[print_entry(entry.details()) for entry in visit.entries],
        assessment=visit.assessment,
        plan=visit.plan,
        next_visit=format_date(visit.next_visit_on),
        adverse=adverse,
        signed=(
            f"Signed by {visit.therapist.full_name} on {format_datetime(visit.signed_at)}"
            if visit.signed_at
            else "Draft: not signed"
        ),
        addenda=[
            (a.author.full_name, format_datetime(a.created_at), a.reason, a.text) for a in addenda
        ],
    )
