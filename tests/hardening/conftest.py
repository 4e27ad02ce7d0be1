"""The trainee fixtures (fast password hashing, `trainee`) for the hardening tests too."""

from __future__ import annotations

from tests.trainee.conftest import fast_hashing, trainee

__all__ = ["fast_hashing", "trainee"]
