"""WeCom end to end with the real dialogue: fake WeCom API ↔ our app ↔ real Rasa ↔ our actions + KB."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.app import create_app
from bot.settings import ChannelsSettings
from tests.support.servers import serve
from tests.support.stack import Stack
from tests.wecom.conftest import wecom_settings
from tests.wecom.fakes import OPEN_KFID, FakeWeCom, LoopbackServer, customer_text
from tests.wecom.helpers import PATH, kf_notice, sign

pytestmark = pytest.mark.e2e


@pytest.fixture
def wecom_front(stack: Stack, tmp_path: Path) -> Iterator[tuple[str, FakeWeCom]]:
    """A WeCom-enabled app instance on the stack's data, talking to the stack's Rasa."""
    assert stack.proxy is not None
    fake = FakeWeCom()
    with LoopbackServer(fake.app()) as wecom_server:
        settings = stack.settings.model_copy(
            update={
                "rasa": stack.settings.rasa.model_copy(update={"port": stack.proxy.port}),
                "channels": ChannelsSettings(wecom=wecom_settings(wecom_server.url, open_kfid=OPEN_KFID)),
            }
        )
        with serve(create_app(settings)) as url:
            yield url, fake


def test_a_clients_chinese_question_gets_a_grounded_answer_with_disclosures(
    wecom_front: tuple[str, FakeWeCom],
) -> None:
    url, wecom = wecom_front
    now = time.time()
    wecom.kf_messages = [customer_text("e2e-msg-1", "wmRealRasa", "货币基金怎么赎回，多久到账？", send_time=now)]
    callback = sign(kf_notice(token="ENC-REAL", create_time=now), timestamp=now, nonce="515151")
    response = httpx.post(f"{url}{PATH}", params=callback.params, content=callback.body, timeout=10)
    assert (response.status_code, response.text) == (200, "")
    deadline = time.monotonic() + 60
    while len(wecom.sent_texts()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    sent = "\n".join(wecom.sent_texts())
    assert "AI" in sent, "the conversation opens with the AI disclosure"
    assert "赎回" in sent and "理财非存款、产品有风险、投资须谨慎" in sent
    assert "来源：《" in sent, f"the answer cites approved content by title: {sent}"
    assert all(c.body["touser"] == "wmRealRasa" for c in wecom.calls_to("/cgi-bin/kf/send_msg"))
