"""The e2e tests of the knowledge, dialogue, leads and WeCom flows, collected again on the scale-out shape:
the `stack` they use is two Rasa replicas on PostgreSQL + Redis, the app on PostgreSQL and a Chroma
server (tests/scale/conftest.py), so each passes there as well as on the embedded stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_answers import *  # noqa: F403
from tests.e2e.test_dialogue_flows import *  # noqa: F403
from tests.e2e.test_dialogue_kinds import *  # noqa: F403
from tests.e2e.test_wecom import *  # noqa: F403
from tests.scale.conftest import WeComFront
from tests.support.scale_stack import ScaleStack
from tests.support.stack import Stack
from tests.wecom.fakes import FakeWeCom

pytestmark = [pytest.mark.scale, pytest.mark.e2e]


@pytest.fixture(scope="session")
def stack(scale_stack: ScaleStack) -> Stack:
    """The embedded e2e tests' view of the scale-out stack (no proxy: its replicas are the failover)."""
    first = scale_stack.supervisors[0]
    return Stack(
        settings=scale_stack.settings,
        app_url=scale_stack.app_url,
        rasa_url=scale_stack.rasa_urls[0],
        rasa_token=scale_stack.rasa_token,
        proxy=None,
        model=Path(),
        supervisor=first,
    )


@pytest.fixture
def wecom_front(wecom_on_servers: WeComFront) -> tuple[str, FakeWeCom]:
    """test_wecom's view of the WeCom-enabled app on the scale-out shape (its store on PostgreSQL)."""
    return wecom_on_servers.url, wecom_on_servers.api
