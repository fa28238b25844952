"""action_session_start: every conversation opens with the AI disclosure (AI labelling rule, 2025-09-01)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

# Session metadata keys that become slots, so later actions know where and who.
_METADATA_SLOTS = ("channel", "client_id", "phone", "risk_level")
# A question awaiting the client's yes (bot/actions/confirm.py), contact details half given, an offer, the
# products in focus and the misses so far never outlive their session. Questionnaire answers do (resume).
_NOT_CARRIED = (
    "session_started_metadata", "pending_confirmation", "pending_offer", "contact_step", "pending_lead",
    "contact_tries", "contact_name", "contact_phone", "contact_consent_text", "misses", "product_focus",
    "assessment_go", "assessment_exit", "requested_slot", "last_route",
)  # fmt: skip


class ActionSessionStart(Action):
    """Starts a session like Rasa's default, then discloses that the user is talking to an AI."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        metadata = tracker.get_slot("session_started_metadata") or {}
        events: list[EventType] = [SessionStarted()]
        carried = {k: v for k, v in tracker.slots.items() if v is not None and k not in _NOT_CARRIED}
        carried.update({k: metadata[k] for k in _METADATA_SLOTS if metadata.get(k)})
        events.extend(SlotSet(k, v) for k, v in carried.items())
        dispatcher.utter_message(response="utter_ai_disclosure")
        events.append(ActionExecuted("action_listen"))
        return events
