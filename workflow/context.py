"""What every transition needs besides its actor and subject: the database, the clock, keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow.clock import Clock
from workflow.errors import NotFound

if TYPE_CHECKING:
    from storage.crypto import FieldCipher

M = TypeVar("M")


@dataclass
class Ctx:
    session: AsyncSession
    clock: Clock
    cipher: FieldCipher
    upload_dir: Path = field(default_factory=lambda: Path("data/files"))
    max_upload_bytes: int = 10 * 1024 * 1024

    def now(self) -> Any:
        return self.clock.now()

    async def get(self, model: type[M], ident: Any, *, lock: bool = False) -> M:
        """Load a row or refuse with `not_found`; `lock` takes a row lock where there are any."""
        stmt = select(model).where(model.id == ident)  # type: ignore[attr-defined]
        if lock:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            raise NotFound(model.__name__.lower())
        return row
