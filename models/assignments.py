"""Who does what by when: item owners and deadlines, the DMs that tell them, incident roles.

Invariants kept by the services:
- an incident checklist item has at most one `ItemAssignment` row (the item's owner, deadline
  and the role its playbook named); no row: nobody has it and it has no deadline;
- `due_at` is when the item is due (NULL: no deadline); `due_offset` is a playbook's "+30m"
  not yet turned into a moment (the flows do it at start, with the time scale of the product);
- `reminded_at` is set by the one replica that sent the reminder for that `due_at` (a claim:
  `UPDATE ... WHERE reminded_at IS NULL`), and cleared when the deadline changes;
- `announced` is False while the owner has not been sent their DM; claimed the same way;
- an incident has at most one `IncidentRole` row per role; the commander is not one of them
  (it is `Incident.commander_id`).

`AssignmentMessage` rows are the DMs sent about items; they outlive the item (a removed item's
DM still has to lose its buttons), so they name the item by id, not by a foreign key.
"""
from __future__ import annotations

import peewee

from .db import BaseModel
from .fields import IdField
from .incidents import ChecklistItem, Incident

ROLE_MAX = 32


class ItemAssignment(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    incident = peewee.ForeignKeyField(Incident, backref="assignments", on_delete="CASCADE")
    incident_id: int  # the key itself, which peewee adds beside the field
    item = peewee.ForeignKeyField(ChecklistItem, unique=True, backref="assignment", on_delete="CASCADE")
    item_id: int
    assignee_id = IdField(null=True, index=True)
    assigned_by = IdField(null=True)
    assigned_at = peewee.BigIntegerField(null=True)
    announced = peewee.BooleanField(default=True)
    role = peewee.CharField(max_length=ROLE_MAX, null=True)  # the playbook's default owner, by role
    due_at = peewee.BigIntegerField(null=True, index=True)
    due_offset = peewee.IntegerField(null=True)  # seconds after the start, from the playbook
    reminded_at = peewee.BigIntegerField(null=True)


class AssignmentMessage(BaseModel):
    """A DM about one item: "it is yours" (`assigned`) or "it is due" (`due`)."""

    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    incident = peewee.ForeignKeyField(Incident, backref="assignment_messages", on_delete="CASCADE")
    incident_id: int
    item_id = peewee.IntegerField(index=True)
    user_id = IdField()
    kind = peewee.CharField(max_length=16)
    post_id = IdField()
    sent_at = peewee.BigIntegerField()
    shown = peewee.CharField(max_length=64, default="")  # what the post shows now, as a state key


class IncidentRole(BaseModel):
    id = peewee.AutoField()  # peewee's implicit key, spelled out for the type checker
    incident = peewee.ForeignKeyField(Incident, backref="roles", on_delete="CASCADE")
    incident_id: int
    role = peewee.CharField(max_length=ROLE_MAX)
    user_id = IdField()
    set_by = IdField()
    set_at = peewee.BigIntegerField()

    class Meta:
        indexes = ((("incident", "role"), True),)
