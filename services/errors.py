"""Errors the services raise; `.message` is shown to the user as is.

Each message is one short sentence that says what is wrong and, where there is
something to do, what to do. The chat layer picks the tone (ephemeral post,
dialog error) from the class.
"""
from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing referred to does not exist, or the actor may not know it exists."""


class Forbidden(DomainError):
    """The actor may see the thing but not do this to it."""


class Invalid(DomainError):
    """The input cannot be used (bad name, number out of range, malformed YAML...)."""


class Conflict(DomainError):
    """The input is fine but the current state does not allow it (already ended, duplicate title...)."""
