"""All tables. Importing this package registers them on `SQLModel.metadata`."""

from storage.models._base import SQLModel
from storage.models.accounts import (
    Account,
    Invitation,
    LoginThrottle,
    PhoneVerification,
    TelegramUser,
)
from storage.models.applications import AllocationOffer, Application
from storage.models.audit import AuditLog, Handover
from storage.models.bot_info import BotInfo
from storage.models.changes import ChangeRequest
from storage.models.fsm import FsmRecord
from storage.models.inbox import InboxUpdate, UpdateLog
from storage.models.miniapp import MiniAppDraft
from storage.models.outbox import OutboxMessage
from storage.models.profile import EducationRecord, TraineeProfile, WorkRecord
from storage.models.reference import Base, Batch, BatchPersonnelType, City, Plan, Specialty
from storage.models.reminders import ReminderMute
from storage.models.sms import SmsSend
from storage.models.trainee_ui import StatusCard
from storage.models.training import Document, Reduction, Training

metadata = SQLModel.metadata

__all__ = [
    "Account",
    "AllocationOffer",
    "Application",
    "AuditLog",
    "Base",
    "Batch",
    "BatchPersonnelType",
    "BotInfo",
    "ChangeRequest",
    "City",
    "Document",
    "EducationRecord",
    "FsmRecord",
    "Handover",
    "InboxUpdate",
    "Invitation",
    "LoginThrottle",
    "MiniAppDraft",
    "OutboxMessage",
    "PhoneVerification",
    "Plan",
    "Reduction",
    "ReminderMute",
    "SmsSend",
    "Specialty",
    "StatusCard",
    "TelegramUser",
    "TraineeProfile",
    "Training",
    "UpdateLog",
    "WorkRecord",
    "metadata",
]
