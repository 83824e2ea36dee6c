"""The context every service runs in: a database session, the settings, the actor.

A service function takes a :class:`Ctx` first; the CLI, the web pages and the API
build one and call the same function.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from kumin.core import audit
from kumin.core.config import Settings
from kumin.core.crypto import Keyring
from kumin.core.db import session_scope
from kumin.core.permissions import Actor, authorize


@dataclass
class Ctx:
    session: Session
    settings: Settings
    actor: Actor
    _keyring: Keyring | None = field(default=None, repr=False)

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            self._keyring = Keyring(self.session, self.settings.key_file)
        return self._keyring

    @property
    def lang(self) -> str:
        return self.actor.lang

    def authorize(self, action: str, *, department: str | None = None, object: str = "") -> None:
        authorize(self.actor, action, department=department, session=self.session, object=object)

    def audit(
        self,
        action: str,
        object: str = "",
        purpose: str = "",
        outcome: str = "ok",
        **details: Any,
    ) -> None:
        audit.record(self.session, self.actor.name, action, object, purpose, outcome, details)


@contextmanager
def context(settings: Settings, actor: Actor) -> Iterator[Ctx]:
    """A context whose transaction commits when the block ends without error."""
    with session_scope(settings) as session:
        yield Ctx(session, settings, actor)
