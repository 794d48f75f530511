"""The clinic's own home-care items, plans checked against the screening, issued handouts."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from flask import abort
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from clinic.access import get_scoped_or_404, scoped
from clinic.audit.trail import Actor, record_event
from clinic.clock import utcnow
from clinic.domain.catalogue import Region
from clinic.domain.errors import Conflict, Problem, RuleViolations, row_key
from clinic.domain.homecare import (
    ITEMS,
    ITEMS_BY_CODE,
    Declaration,
    Dose,
    Each,
    Effect,
    HomeCareItem,
    ItemAssessment,
    ItemKind,
    ItemRule,
    assess_item,
    describe_dose,
    own_item_rules,
    safety_notes,
    validate_dose,
)
from clinic.domain.screening import FINDING_LABELS, ScreeningResult
from clinic.extensions import db
from clinic.homecare.logo import check_logo
from clinic.homecare.printing import PrintedHandout, build_handout, pain_chart_for
from clinic.models import (
    AuditAction,
    Client,
    Clinic,
    HomeCarePlan,
    HomeCarePlanItem,
    IssuedHandout,
    LibraryItem,
    LibraryItemVersion,
    User,
)
from clinic.models.homecare import DoseColumns
from clinic.pdf import PAGE_SIZES, Asset, PageSize, memory_asset, render_pdf
from clinic.screening.operations import CurrentScreening, load_current_screening
from clinic.transaction import operation

DOSE_FIELDS = ("hold_seconds", "repetitions", "sets", "times_per_day", "times_per_week", "minutes")
MAX_STEPS = 20
MAX_CAUTIONS = 10
# Ten columns still fit the two-week record on one page, and ten items a day is already a lot
# to keep up at home.
MAX_PLAN_ITEMS = 10

# --- Library -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemDetails:
    """A clinic item as the owner typed it."""

    kind: ItemKind
    title: str
    purpose: str
    steps: tuple[str, ...]
    cautions: tuple[str, ...]
    dose: Dose
    excluded_by: frozenset[str] = frozenset()
    # What the item involves (DOMAIN.md 8.4); every new version must say (None: not said).
    areas: frozenset[Region] | None = None
    uses_pressure: bool | None = None
    weight_bearing: bool | None = None


@dataclass(frozen=True)
class LibraryEntry:
    """One item the plan builder offers: built in, or the newest version of the clinic's own.

    key names the item's row in the builder form ("b_<code>" or "c_<item id>").
    """

    key: str
    item: HomeCareItem
    own_version: LibraryItemVersion | None = None

    @property
    def is_own(self) -> bool:
        """Whether the clinic wrote the item (rather than it being built in)."""
        return self.own_version is not None

    @property
    def undeclared(self) -> bool:
        """Whether the clinic's own item does not yet say what it involves."""
        return self.own_version is not None and declaration_of(self.own_version) is None


LIBRARY_CONFLICT = (
    "Someone saved a newer version of this item while you were editing, so nothing of yours"
    " was saved. Theirs is shown below the form; yours is still in it. Save again to make"
    " yours the next version."
)


def dose_of(row: DoseColumns) -> Dose:
    """Return the dose stored in a row's dose columns."""
    return Dose(
        hold_seconds=row.hold_seconds,
        repetitions=row.repetitions,
        sets=row.sets,
        times_per_day=row.times_per_day,
        times_per_week=row.times_per_week,
        minutes=row.minutes,
        each=row.each,
    )


def _dose_columns(dose: Dose) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(dose, name) for name in DOSE_FIELDS}
    values["each"] = dose.each
    return values


def declaration_of(version: LibraryItemVersion) -> Declaration | None:
    """Return what a stored version declares it involves, or None if it says nothing."""
    if version.areas is None or version.uses_pressure is None or version.weight_bearing is None:
        return None
    areas = frozenset(Region(a) for a in version.areas if a in {r.value for r in Region})
    return Declaration(areas, version.uses_pressure, version.weight_bearing)


def to_domain_item(version: LibraryItemVersion) -> HomeCareItem:
    """Return a clinic item's version as a library item the screening rules can assess.

    The owner's own picks leave it out; what it declares brings the built-in items' rules.
    """
    rules: tuple[ItemRule, ...] = ()
    if version.excluded_by:
        rules = (ItemRule(Effect.EXCLUDE, codes=frozenset(version.excluded_by)),)
    text = " ".join((version.title, version.purpose, *version.steps, *version.cautions))
    rules += own_item_rules(version.kind, declaration_of(version), text)
    return HomeCareItem(
        code=f"clinic_{version.item_id}",
        version=version.number,
        kind=version.kind,
        title=version.title,
        purpose=version.purpose,
        steps=tuple(version.steps),
        dose=dose_of(version),
        cautions=tuple(version.cautions),
        rules=rules,
        # The owner picks findings, not legs: a picked finding leaves the item out entirely.
        per_leg=False,
    )


def list_library(*, include_archived: bool = False) -> tuple[LibraryEntry, ...]:
    """Return the built-in items, then the clinic's own items by title."""
    statement = scoped(LibraryItem)
    if not include_archived:
        statement = statement.where(LibraryItem.archived_at.is_(None))
    own = [
        LibraryEntry(
            key=f"c_{item.id}", item=to_domain_item(item.current), own_version=item.current
        )
        for item in db.session.scalars(statement)
    ]
    own.sort(key=lambda entry: (entry.item.title.casefold(), entry.key))
    builtin = [LibraryEntry(key=f"b_{item.code}", item=item) for item in ITEMS]
    return (*builtin, *own)


def list_own_items() -> Sequence[LibraryItem]:
    """Return the clinic's own items, in use first, then by title."""
    items = list(db.session.scalars(scoped(LibraryItem)))
    items.sort(key=lambda i: (i.archived_at is not None, i.current.title.casefold(), i.id))
    return items


def get_library_item_or_404(item_id: int) -> LibraryItem:
    """Return one of the clinic's own items, or answer 404."""
    return get_scoped_or_404(LibraryItem, item_id)


def _dose_problems(dose: Dose, kind: ItemKind | None = None) -> list[Problem]:
    try:
        validate_dose(dose, kind)
    except RuleViolations as refused:
        return list(refused)
    return []


def _check_item(details: ItemDetails) -> None:
    problems = _dose_problems(details.dose, details.kind)
    if not details.steps:
        problems.append(Problem("steps", "Write at least one step."))
    if len(details.steps) > MAX_STEPS:
        problems.append(Problem("steps", f"Keep it to {MAX_STEPS} steps or fewer."))
    if len(details.cautions) > MAX_CAUTIONS:
        problems.append(Problem("cautions", f"Keep it to {MAX_CAUTIONS} cautions or fewer."))
    unknown = details.excluded_by - set(FINDING_LABELS)
    if unknown:
        problems.append(Problem("excluded_by", "Choose findings from the list."))
    if details.areas is None:
        problems.append(Problem("areas", "Say which parts of the leg the item works, or none."))
    if details.uses_pressure is None:
        problems.append(Problem("uses_pressure", "Say whether the item presses on the leg."))
    if details.weight_bearing is None:
        problems.append(Problem("weight_bearing", "Say whether the legs carry weight in it."))
    if problems:
        raise RuleViolations(problems)


def _new_version(
    item: LibraryItem, number: int, author: User, details: ItemDetails
) -> LibraryItemVersion:
    return LibraryItemVersion(
        clinic_id=item.clinic_id,
        number=number,
        kind=details.kind,
        title=details.title,
        purpose=details.purpose,
        steps=list(details.steps),
        cautions=list(details.cautions),
        excluded_by=sorted(details.excluded_by),
        areas=None if details.areas is None else sorted(a.value for a in details.areas),
        uses_pressure=details.uses_pressure,
        weight_bearing=details.weight_bearing,
        created_by_id=author.id,
        **_dose_columns(details.dose),
    )


def details_of(version: LibraryItemVersion) -> ItemDetails:
    """Return a stored version as the details the owner would type."""
    return ItemDetails(
        kind=version.kind,
        title=version.title,
        purpose=version.purpose,
        steps=tuple(version.steps),
        cautions=tuple(version.cautions),
        dose=dose_of(version),
        excluded_by=frozenset(version.excluded_by),
        **_declared_details(version),
    )


def _declared_details(version: LibraryItemVersion) -> dict[str, Any]:
    declaration = declaration_of(version)
    if declaration is None:
        return {}
    return {
        "areas": declaration.areas,
        "uses_pressure": declaration.uses_pressure,
        "weight_bearing": declaration.weight_bearing,
    }


@operation
def create_library_item(actor: Actor, details: ItemDetails) -> LibraryItem:
    """Add an item of the clinic's own, as its version 1."""
    _check_item(details)
    owner = actor.required_user
    item = LibraryItem(clinic_id=actor.clinic_id, created_by_id=owner.id, current_number=1)
    item.versions.append(_new_version(item, 1, owner, details))
    db.session.add(item)
    db.session.flush()
    record_event(
        actor,
        AuditAction.CREATE,
        record_type="library_item",
        record_id=item.id,
        summary="Added a library item",
    )
    db.session.flush()
    return item


@operation
def revise_library_item(
    actor: Actor, item: LibraryItem, details: ItemDetails, *, expected_number: int | None
) -> LibraryItemVersion | None:
    """Save an edit as a new version; return None when nothing changed (no version made).

    Raises Conflict when someone saved a newer version since the form was loaded.
    """
    if expected_number != item.current_number:
        raise Conflict(LIBRARY_CONFLICT, record=item)
    _check_item(details)
    if details == details_of(item.current):
        return None
    number = item.current_number + 1
    version = _new_version(item, number, actor.required_user, details)
    item.versions.append(version)
    item.current_number = number
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError) as error:
        # Another save landed between this one's read and its write.
        raise Conflict(LIBRARY_CONFLICT, record=item) from error
    record_event(
        actor,
        AuditAction.CHANGE,
        record_type="library_item",
        record_id=item.id,
        summary="Edited a library item",
    )
    db.session.flush()
    return version


@operation
def set_library_item_archived(actor: Actor, item: LibraryItem, *, archived: bool) -> None:
    """Retire an item from the plan builder, or bring it back; plans keep their copies."""
    item.archived_at = utcnow() if archived else None
    record_event(
        actor,
        AuditAction.CHANGE,
        record_type="library_item",
        record_id=item.id,
        summary="Retired a library item" if archived else "Offered a retired library item again",
    )
    db.session.flush()


# --- Plans -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanPick:
    """One item ticked in the builder, with the version shown, the dose and the note."""

    key: str
    version: int | None
    dose: Dose
    note: str = ""


@dataclass(frozen=True)
class BuilderRow:
    """One library item as the builder shows it: may it go in, and with what changes."""

    entry: LibraryEntry
    assessment: ItemAssessment
    dose_text: str


def plan_blockers(client: Client, current: CurrentScreening) -> list[str]:
    """Return why no plan can be built for the client now (empty when one can)."""
    reasons: list[str] = []
    if client.archived_at is not None:
        reasons.append("This client is archived. Unarchive the record to build a plan.")
    status = current.status
    if current.result is None or not status.has_current_screening:
        reasons.append(
            status.explanation
            + " Home care is chosen from a current screening, so one comes first."
        )
    elif current.result.refuses_treatment:
        labels = ", ".join(f.label.lower() for f in current.refer_findings)
        reasons.append(
            f"The screening found warning signs that need a doctor first ({labels}). Home care"
            " waits until a doctor's clearance is recorded."
        )
    return reasons


def check_plan_can_start(
    client: Client, clinic: Clinic, today: date
) -> tuple[list[str], CurrentScreening]:
    """Return why a plan cannot be built today (empty when it can) and the screening in force."""
    current = load_current_screening(client, clinic, today)
    return plan_blockers(client, current), current


def builder_rows(result: ScreeningResult) -> list[BuilderRow]:
    """Assess every library item against the screening result, in library order."""
    return [
        BuilderRow(entry, assess_item(entry.item, result), describe_dose(entry.item.dose))
        for entry in list_library()
    ]


def find_plan_by_token(token: str) -> HomeCarePlan | None:
    """Return the plan a builder form already created, if it was saved before."""
    return db.session.scalars(
        scoped(HomeCarePlan).where(HomeCarePlan.creation_token == token)
    ).first()


#: The builder form's list of items: plan problems are keyed row_key(PLAN_ROWS, i, field), i
#: the pick's place among the picks given, so each message lands beside its item.
PLAN_ROWS = "items"
#: A problem with an item as a whole (left out, changed in the library) sits on its tick box.
ROW_FIELD = "include"


def _pick_problems(
    index: int, pick: PlanPick, entry: LibraryEntry, assessment: ItemAssessment
) -> list[Problem]:
    problems: list[Problem] = []
    if pick.version != entry.item.version:
        problems.append(
            Problem(
                row_key(PLAN_ROWS, index, ROW_FIELD),
                "This item was changed in the library after the page was opened. Read it"
                " again below, then save.",
            )
        )
    if assessment.excluded:
        problems.append(
            Problem(
                row_key(PLAN_ROWS, index, ROW_FIELD),
                "Not for this client: " + " ".join(assessment.reasons_here),
            )
        )
    for problem in _dose_problems(pick.dose, entry.item.kind):
        problems.append(
            Problem(row_key(PLAN_ROWS, index, problem.field or ROW_FIELD), problem.message)
        )
    return problems


@operation
def build_plan(
    actor: Actor,
    client: Client,
    picks: Sequence[PlanPick],
    *,
    note: str,
    creation_token: str,
    today: date,
) -> HomeCarePlan:
    """Save a plan of the picked items, refusing any the screening leaves out.

    Raises RuleViolations (a pick's problems keyed by its place in picks) or Conflict when a
    plan with this creation token was saved meanwhile (a second press of save).
    """
    reasons, current = check_plan_can_start(client, _clinic_of(actor), today)
    if reasons or current.result is None or current.screening is None:
        raise RuleViolations.one(None, " ".join(reasons) or "No current screening.")
    library = {entry.key: entry for entry in list_library()}
    problems: list[Problem] = []
    chosen: list[tuple[LibraryEntry, ItemAssessment, PlanPick]] = []
    for index, pick in enumerate(picks):
        entry = library.get(pick.key)
        if entry is None:
            problems.append(Problem(None, "An item you ticked is no longer in the library."))
            continue
        assessment = assess_item(entry.item, current.result)
        problems.extend(_pick_problems(index, pick, entry, assessment))
        chosen.append((entry, assessment, pick))
    if not picks:
        problems.append(Problem(None, "Tick at least one item for the plan."))
    if len(picks) > MAX_PLAN_ITEMS:
        problems.append(
            Problem(
                None,
                f"A plan holds at most {MAX_PLAN_ITEMS} items: more is hard to keep up at home."
                f" Untick {len(picks) - MAX_PLAN_ITEMS}.",
            )
        )
    if len({pick.key for pick in picks}) != len(picks):
        problems.append(Problem(None, "Each item can be in a plan only once."))
    if problems:
        raise RuleViolations(problems)
    plan = HomeCarePlan(
        clinic_id=client.clinic_id,
        client_id=client.id,
        screening_id=current.screening.id,
        created_by_id=actor.required_user.id,
        creation_token=creation_token,
        note=note,
        safety_notes=list(safety_notes(current.result)),
    )
    plan.items = [
        snapshot_plan_item(
            entry,
            clinic_id=client.clinic_id,
            position=position,
            dose=pick.dose,
            note=pick.note,
            changes=assessment.changes,
            steps=assessment.steps,
            one_leg=len(assessment.sides) == 1,
        )
        for position, (entry, assessment, pick) in enumerate(chosen)
    ]
    db.session.add(plan)
    try:
        db.session.flush()
    except IntegrityError as error:
        # Two presses of save raced past the view's look-up; the first one's plan stands.
        raise Conflict("This plan was saved already.") from error
    record_event(
        actor,
        AuditAction.CREATE,
        record_type="plan",
        record_id=plan.id,
        client_id=client.id,
        summary="Saved a home-care plan",
    )
    db.session.flush()
    return plan


def snapshot_plan_item(
    entry: LibraryEntry,
    *,
    clinic_id: int,
    position: int,
    dose: Dose,
    note: str,
    changes: Sequence[str],
    steps: Sequence[str] | None = None,
    one_leg: bool = False,
) -> HomeCarePlanItem:
    """Copy a library item's text and version into a plan, so the plan never changes later.

    steps are the item's steps as the screening changed them (the item's own by default).
    """
    return HomeCarePlanItem(
        clinic_id=clinic_id,
        position=position,
        builtin_code=None if entry.is_own else entry.item.code,
        library_version_id=entry.own_version.id if entry.own_version else None,
        item_version=entry.item.version,
        kind=entry.item.kind,
        title=entry.item.title,
        purpose=entry.item.purpose,
        steps=list(entry.item.steps if steps is None else steps),
        cautions=list(entry.item.cautions),
        changes=list(changes),
        dose_text=describe_dose(printed_dose(dose, one_leg=one_leg)),
        note=note,
        **_dose_columns(dose),
    )


def printed_dose(dose: Dose, *, one_leg: bool) -> Dose:
    """Return the dose as the handout words it: "on each leg" only when both legs do it."""
    return replace(dose, each=None) if one_leg and dose.each is Each.LEG else dose


def get_plan_or_404(client: Client, plan_id: int) -> HomeCarePlan:
    """Return one of the client's plans in the signed-in user's clinic, or answer 404."""
    plan = get_scoped_or_404(HomeCarePlan, plan_id)
    if plan.client_id != client.id:
        abort(404)
    return plan


def list_plans(client: Client) -> Sequence[HomeCarePlan]:
    """Return a client's plans, newest first."""
    return db.session.scalars(
        scoped(HomeCarePlan)
        .where(HomeCarePlan.client_id == client.id)
        .order_by(HomeCarePlan.created_at.desc(), HomeCarePlan.id.desc())
    ).all()


def list_handouts(client: Client) -> Sequence[IssuedHandout]:
    """Return the handouts issued to a client, newest first (without their PDF bytes)."""
    return db.session.scalars(
        scoped(IssuedHandout)
        .where(IssuedHandout.client_id == client.id)
        .order_by(IssuedHandout.issued_at.desc(), IssuedHandout.id.desc())
    ).all()


def get_handout_or_404(client: Client, handout_id: int) -> IssuedHandout:
    """Return a handout issued to the client in the signed-in user's clinic, or answer 404."""
    handout = get_scoped_or_404(IssuedHandout, handout_id)
    if handout.client_id != client.id:
        abort(404)
    return handout


@dataclass(frozen=True)
class ClientHomeCare:
    """The home-care section of a client's page."""

    plans: Sequence[HomeCarePlan]
    handouts: Mapping[int, Sequence[IssuedHandout]] = field(default_factory=dict)
    blockers: Sequence[str] = ()


def summarise_client_homecare(client: Client, current: CurrentScreening) -> ClientHomeCare:
    """Return the client's plans, the handouts of each, and why a new plan cannot start."""
    plans = list_plans(client)
    by_plan: dict[int, list[IssuedHandout]] = {}
    # A handout is issued from a plan: with no plan, there is none to look for.
    for handout in list_handouts(client) if plans else ():
        by_plan.setdefault(handout.plan_id, []).append(handout)
    return ClientHomeCare(plans, by_plan, plan_blockers(client, current))


# --- Handouts ----------------------------------------------------------------------------------


def _item_for_check(item: HomeCarePlanItem) -> HomeCareItem | None:
    if item.builtin_code is not None:
        return ITEMS_BY_CODE.get(item.builtin_code)
    if item.library_version_id is None:
        return None
    version = db.session.get(LibraryItemVersion, item.library_version_id)
    return to_domain_item(version) if version is not None else None


def plan_out_of_date(plan: HomeCarePlan, current: CurrentScreening) -> list[str]:
    """Return why the plan no longer matches the client's screening (empty when it does)."""
    if current.screening is None or current.result is None:
        return ["The client has no current screening."]
    if current.screening.id != plan.screening_id:
        return ["The client was screened again after this plan was made."]
    reasons: list[str] = []
    # Same screening, but a clearance may have run out or been added since.
    if list(safety_notes(current.result)) != plan.safety_notes:
        reasons.append("The safety notes from the screening have changed.")
    for item in plan.items:
        domain_item = _item_for_check(item)
        if domain_item is None:
            reasons.append(f"{item.title} can no longer be checked against the screening.")
            continue
        assessment = assess_item(domain_item, current.result)
        if assessment.excluded:
            reasons.append(f"{item.title} is now left out by the screening.")
        elif list(assessment.changes) != item.changes or list(assessment.steps) != item.steps:
            reasons.append(f"The screening now changes {item.title} differently.")
    return reasons


def _page_size(clinic: Clinic) -> PageSize:
    return "Letter" if clinic.paper_size == "Letter" else "A4"


def logo_assets(clinic: Clinic) -> list[Asset]:
    """Return the clinic's logo as an in-memory asset for the PDF, or nothing."""
    if clinic.logo is None or clinic.logo_media_type is None:
        return []
    return [memory_asset("logo", clinic.logo, clinic.logo_media_type)]


@dataclass(frozen=True)
class HandoutDocument:
    """Everything a handout PDF is rendered from, as plain values (comparable with ==)."""

    title: str
    author: str
    page_size: PageSize
    created: datetime | None
    assets: tuple[Asset, ...]
    handout: PrintedHandout

    def render(self) -> bytes:
        """Render the PDF; it reads nothing from the database."""
        return render_pdf(
            "pdf/handout.html",
            title=self.title,
            author=self.author,
            page_size=self.page_size,
            created=self.created,
            assets=self.assets,
            handout=self.handout,
        )


def prepare_handout(
    plan: HomeCarePlan,
    client: Client,
    clinic: Clinic,
    *,
    start_on: date,
    created: datetime | None = None,
    preview: bool = False,
    mismatch: Sequence[str] = (),
) -> HandoutDocument:
    """Gather the plan's handout: the clinic's paper size, logo, and a two-week record.

    mismatch lists why the plan no longer matches the screening (a preview says so on every
    page).
    """
    assets = logo_assets(clinic)
    has_logo = bool(assets)
    chart = pain_chart_for(client)
    if chart is not None:
        assets.append(chart.asset)
    handout = build_handout(
        plan,
        client,
        clinic,
        start_on=start_on,
        has_logo=has_logo,
        pain_chart=chart,
        preview=preview,
        mismatch=mismatch,
    )
    return HandoutDocument(
        title=f"Home-care plan for {client.full_name}",
        author=plan.created_by.full_name,
        page_size=_page_size(clinic),
        created=created,
        assets=tuple(assets),
        handout=handout,
    )


def render_handout(
    plan: HomeCarePlan,
    client: Client,
    clinic: Clinic,
    *,
    start_on: date,
    created: datetime | None = None,
    preview: bool = False,
) -> bytes:
    """Render the plan's handout PDF: the clinic's paper size, logo, and a two-week record."""
    return prepare_handout(
        plan, client, clinic, start_on=start_on, created=created, preview=preview
    ).render()


def print_blockers(client: Client, current: CurrentScreening) -> list[str]:
    """Return why no handout can be printed today (empty when one can).

    DOMAIN.md 8.4: like a visit, printing needs a current screening with the clot signs
    asked that day (by the screening or a "no changes" confirmation).
    """
    reasons = plan_blockers(client, current)
    if not reasons and not current.status.is_ready:
        reasons.append(current.status.explanation + " A handout is printed only after that.")
    return reasons


class PrintRefused(RuleViolations):
    """Printing refused because the screening does not allow it today (not the plan itself)."""


def prepare_preview(
    plan: HomeCarePlan, client: Client, clinic: Clinic, *, today: date
) -> HandoutDocument:
    """Check that a preview may be printed today and gather it, marked if the plan is stale.

    Raises PrintRefused without a current screening with the clot signs asked today.
    """
    current = load_current_screening(client, clinic, today)
    if current.result is None or not current.status.is_ready:
        raise PrintRefused(
            [Problem(None, current.status.explanation + " A handout is printed only after that.")]
        )
    return prepare_handout(
        plan,
        client,
        clinic,
        start_on=today,
        preview=True,
        mismatch=plan_out_of_date(plan, current),
    )


def prepare_issue(
    plan: HomeCarePlan, client: Client, clinic: Clinic, *, today: date, issued_at: datetime
) -> HandoutDocument:
    """Check that the plan may be printed today and gather what its handout shows.

    Raises RuleViolations when the client or the screening no longer allows the plan.
    """
    current = load_current_screening(client, clinic, today)
    reasons = print_blockers(client, current)
    if reasons:
        raise PrintRefused([Problem(None, " ".join(reasons))])
    # The screening may have changed since the plan was made: a handout must match it.
    reasons = plan_out_of_date(plan, current)
    if reasons:
        raise RuleViolations.one(
            None, " ".join(reasons) + " Build a new plan from the current screening to print."
        )
    return prepare_handout(plan, client, clinic, start_on=today, created=issued_at)


HANDOUT_CONFLICT = (
    "The plan, the screening or the client's details changed while the handout was being"
    " printed, so it was not issued. Check the plan and issue it again."
)


@operation
def issue_handout(
    actor: Actor,
    plan: HomeCarePlan,
    client: Client,
    *,
    today: date,
    document: HandoutDocument,
    pdf: bytes,
) -> IssuedHandout:
    """Keep a handout's bytes and SHA-256, if what it was rendered from still holds.

    The PDF is rendered outside any transaction (rendering is slow, and SQLite would hold its
    write lock meanwhile), so everything is read and checked again here: a handout is kept
    only if it shows exactly what the records say now (else Conflict, or RuleViolations
    when the plan may no longer be printed at all).
    """
    assert document.created is not None, "an issued handout carries its date"
    again = prepare_issue(plan, client, _clinic_of(actor), today=today, issued_at=document.created)
    if again != document:
        raise Conflict(HANDOUT_CONFLICT, record=plan)
    handout = IssuedHandout(
        clinic_id=plan.clinic_id,
        client_id=client.id,
        plan_id=plan.id,
        issued_by_id=actor.required_user.id,
        issued_at=document.created,
        page_size=document.page_size,
        sha256=hashlib.sha256(pdf).hexdigest(),
        byte_size=len(pdf),
        pdf=pdf,
    )
    db.session.add(handout)
    db.session.flush()
    record_event(
        actor,
        AuditAction.CREATE,
        record_type="handout",
        record_id=handout.id,
        client_id=client.id,
        summary="Issued a home-care handout",
    )
    db.session.flush()
    return handout


def handout_pdf(handout: IssuedHandout) -> bytes:
    """Return the stored bytes of an issued handout, checked against its SHA-256."""
    data = bytes(handout.pdf)
    if hashlib.sha256(data).hexdigest() != handout.sha256:
        # Never hand out bytes that differ from what was recorded as given.
        raise RuntimeError(f"issued handout {handout.id} does not match its SHA-256")
    return data


# --- The clinic's logo and paper -------------------------------------------------------------


def _clinic_of(actor: Actor) -> Clinic:
    return db.session.get_one(Clinic, actor.clinic_id)


def set_clinic_logo(clinic: Clinic, data: bytes) -> None:
    """Check an uploaded image and make it the clinic's logo on handouts.

    A part of the admin's upload operation, which records the change; raises RuleViolations.
    """
    logo = check_logo(data)
    clinic.logo = logo.data
    clinic.logo_media_type = logo.media_type
    clinic.logo_width = logo.width
    clinic.logo_height = logo.height
    db.session.flush()


def remove_clinic_logo(clinic: Clinic) -> None:
    """Stop printing a logo; handouts already issued keep theirs (the caller records it)."""
    clinic.logo = None
    clinic.logo_media_type = None
    clinic.logo_width = None
    clinic.logo_height = None
    db.session.flush()


def set_paper_size(clinic: Clinic, paper_size: str) -> None:
    """Choose A4 or Letter for the clinic's handouts (part of saving the clinic's settings)."""
    if paper_size not in PAGE_SIZES:
        raise RuleViolations.one("paper_size", "Choose A4 or Letter.")
    clinic.paper_size = paper_size
