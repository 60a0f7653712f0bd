"""Storage: Peewee tables and their invariants. No Mattermost I/O here."""
from .bot import BotState, SchemaVersion, SlashCommand
from .db import BaseModel, connect, db, is_postgres
from .incidents import STATE_CLOSED, STATE_OPEN, Checklist, ChecklistItem, Incident, TimelineEvent
from .record import FollowUp, PinnedPost
from .assignments import AssignmentMessage, IncidentRole, ItemAssignment
from .updates import PlaybookUpdates, StatusUpdate, TeamBroadcast, UpdateReminder
from .playbooks import (
    Playbook,
    PlaybookChecklist,
    PlaybookEditor,
    PlaybookItem,
    PlaybookVersion,
    TeamSettings,
)

__all__ = [
    "BaseModel", "BotState", "Checklist", "ChecklistItem", "Incident", "Playbook",
    "PlaybookChecklist", "PlaybookEditor", "PlaybookItem", "PlaybookVersion",
    "STATE_CLOSED", "STATE_OPEN", "SchemaVersion", "SlashCommand", "TeamSettings",
    "TimelineEvent", "connect", "db", "is_postgres", "PlaybookUpdates", "StatusUpdate", "TeamBroadcast",
    "UpdateReminder", "FollowUp", "PinnedPost", "AssignmentMessage", "IncidentRole", "ItemAssignment",
]
