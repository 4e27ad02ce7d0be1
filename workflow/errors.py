"""Refusals of the workflow. The chat turns `code` into a message with `params`."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule said no. `code` names the rule (a locale key under `error.`).

    Normally a refusal leaves nothing behind: the caller rolls back. `persist=True` marks a
    refusal whose own bookkeeping must stay (a failed login counted towards throttling).
    """

    def __init__(self, code: str, *, persist: bool = False, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.persist = persist
        self.params = params

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {sorted(self.params)})"


class NotFound(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__("not_found", what=what)


class Forbidden(DomainError):
    """The actor's role or scope does not cover the subject."""

    def __init__(self, code: str = "forbidden.generic", **params: Any) -> None:
        super().__init__(code, **params)
