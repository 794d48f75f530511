"""All models, imported here so that Alembic and create_all see every table."""

from clinic.models.audit import AuditAction, AuditChangeError, AuditEntry
from clinic.models.client import Client
from clinic.models.clinic import Clinic
from clinic.models.homecare import (
    HomeCarePlan,
    HomeCarePlanItem,
    IssuedHandout,
    LibraryItem,
    LibraryItemVersion,
)
from clinic.models.progress import OutcomeAssessment, OutcomeRecordChangeError, PainLogEntry
from clinic.models.screening import (
    Clearance,
    FindingOverride,
    ImmutableRecordError,
    Screening,
    ScreeningConfirmation,
)
from clinic.models.stash import FormStash
from clinic.models.tally import ClinicTally, VisitMonthTally
from clinic.models.user import LoginSession, RecoveryCode, Role, User
from clinic.models.visit import Addendum, SignedVisitError, TechniqueEntry, Visit, VisitFollowUp

__all__ = [
    "Addendum",
    "AuditAction",
    "AuditChangeError",
    "AuditEntry",
    "Clearance",
    "Client",
    "Clinic",
    "ClinicTally",
    "FindingOverride",
    "FormStash",
    "HomeCarePlan",
    "HomeCarePlanItem",
    "ImmutableRecordError",
    "IssuedHandout",
    "LibraryItem",
    "LibraryItemVersion",
    "LoginSession",
    "OutcomeAssessment",
    "OutcomeRecordChangeError",
    "PainLogEntry",
    "RecoveryCode",
    "Role",
    "Screening",
    "ScreeningConfirmation",
    "SignedVisitError",
    "TechniqueEntry",
    "User",
    "Visit",
    "VisitFollowUp",
    "VisitMonthTally",
]
