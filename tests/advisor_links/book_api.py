"""The simulator's ContactBook behind the ContactWayApi seam, in process (for property tests: no HTTP)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.channels.wecom.errors import WeComApiError
from bot.channels.wecom.models import ContactWay
from bot.channels.wecom.simulator import ContactBook

_PATH = "/cgi-bin/externalcontact/"


@dataclass
class BookApi:
    """add/update/del_contact_way answered by a ContactBook, errors raised as the real client raises them."""

    book: ContactBook = field(default_factory=ContactBook)

    def _call(self, name: str, body: dict[str, object]) -> dict[str, object]:
        answer = self.book.handle(_PATH + name, body)
        assert answer is not None
        if answer.get("errcode"):
            raise WeComApiError(_PATH + name, int(str(answer["errcode"])), str(answer.get("errmsg")))
        return answer

    async def add_contact_way(
        self, *, user: str, state: str, skip_verify: bool, remark: str | None = None
    ) -> ContactWay:
        body = {"type": 1, "scene": 2, "user": [user], "state": state, "skip_verify": skip_verify, "remark": remark}
        return ContactWay.model_validate(self._call("add_contact_way", body))

    async def update_contact_way(self, *, config_id: str, user: str | None = None) -> None:
        self._call("update_contact_way", {"config_id": config_id, **({"user": [user]} if user else {})})

    async def del_contact_way(self, *, config_id: str) -> None:
        self._call("del_contact_way", {"config_id": config_id})
