"""Campaigns on a real PostgreSQL server: the dialer's lease (one dialer per campaign, whichever process
runs it), attempts, and the outcome import's count of new rows (the same tests as on SQLite)."""

from __future__ import annotations

import pytest

from tests.campaigns.test_dialer import *  # noqa: F403
from tests.campaigns.test_report import *  # noqa: F403

pytestmark = pytest.mark.pg
