"""Suitable suggestions, recorded interest, and the suitability answer. Suitability is enforced in
bot.advice, never here: this only decides what to say about it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.confirm import PENDING, GatedAction
from bot.actions.context import TurnContext, slot_codes
from bot.compliance import disclosures_for
from bot.compliance.levels import stated_level
from bot.dialogue.focus import remember
from bot.flows import DialogueFlows, LeadRequest
from bot.knowledge.models import Product
from bot.kyc.models import option_index

if TYPE_CHECKING:
    from bot.actions.handoff import Contacts

LEVEL_NAMES = {
    "C1": ("保守型", "conservative"),
    "C2": ("稳健型", "cautious"),
    "C3": ("平衡型", "balanced"),
    "C4": ("成长型", "growth"),
    "C5": ("进取型", "aggressive"),
}


def product_line(product: Product, language: str) -> str:
    """One approved line per product: name, code, risk level and its approved description."""
    name = product.name_en if language == "en" and product.name_en else product.name
    line = f"• {name}（{product.code}，{product.risk_level}）：{product.description.strip()}"
    return line if language == "zh" else line.replace("（", " (").replace("，", ", ").replace("）：", "): ")


def contact_hours(flows: DialogueFlows, language: str) -> str:
    """The promised contact window in the client's language (config: dialogue.advisor_contact_hours)."""
    return flows.settings.advisor_contact_hours_zh if language == "zh" else flows.settings.advisor_contact_hours


async def client_level(flows: DialogueFlows, tracker: Tracker, ctx: TurnContext) -> str | None:
    """The level suitability is judged by: the assessed one, lowered (never raised) by a level the
    client states ("我测评是C2") in this turn or earlier in the conversation."""
    assessed = tracker.get_slot("risk_level")
    if not assessed:
        today = datetime.now(ZoneInfo(flows.settings.timezone)).date()
        assessed = await flows.risk_level(ctx.client_key, today)
    stated = stated_level(ctx.text) or tracker.get_slot("stated_level")
    levels = [str(level) for level in (assessed, stated) if level]
    return min(levels) if levels else None


class Recommender:
    """ask_recommendation: offers the assessment when the level is unknown; else suitable products only."""

    def __init__(self, flows: DialogueFlows) -> None:
        self._flows = flows

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        level = await client_level(self._flows, tracker, ctx)
        if level is None:
            dispatcher.utter_message(response="utter_recommendation_needs_assessment")
            return [SlotSet("pending_offer", "assessment"), SlotSet(PENDING, None)]
        products = self._flows.suggestions(
            level=level,
            channel=ctx.channel,
            objective=option_index(tracker.get_slot("q_objective")),
            horizon=option_index(tracker.get_slot("q_horizon")),
        )
        if not products:
            dispatcher.utter_message(response="utter_no_suitable_products", level=level)
            return [SlotSet("risk_level", level)]
        dispatcher.utter_message(response="utter_recommendation_intro", level=level)
        body = "\n".join(product_line(p, ctx.language) for p in products)
        disclosures = disclosures_for(body + "收益", language=ctx.language)
        dispatcher.utter_message(
            json_message={
                "text": "\n".join([body, *disclosures]),
                "kind": "recommendation",
                "risk_level": level,
                "citations": [
                    {"id": p.code, "title": p.name_en if ctx.language == "en" and p.name_en else p.name}
                    for p in products
                ],
                # The descriptions are approved text; the guard still checks this recommendation's suitability.
                "approved": [p.description.strip() for p in products],
            }
        )
        dispatcher.utter_message(response="utter_recommendation_followup")
        codes = [p.code for p in products]
        return [
            SlotSet("risk_level", level),
            SlotSet("recommended_products", codes),
            SlotSet("product_focus", remember(slot_codes(tracker, "product_focus"), codes)),
        ]


class ActionRecordInterest(GatedAction):
    """express_interest: one product_interest lead for the products named (or the one in focus)."""

    effect = "lead"
    question = "utter_confirm_lead"

    def __init__(self, flows: DialogueFlows, contacts: Contacts) -> None:
        super().__init__(flows)
        self._contacts = contacts

    def name(self) -> str:
        return "action_record_interest"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        codes = [p.code for p in self._flows.find_products(ctx.text)]
        focus = slot_codes(tracker, "product_focus")
        if not codes and focus:
            codes = focus[:1]
        request = LeadRequest(
            client_key=ctx.client_key, sender_id=ctx.sender_id, channel=ctx.channel, type="product_interest",
            intent=ctx.intent or "express_interest", confidence=ctx.confidence, evidence=ctx.text,
            product_codes=tuple(codes),
        )  # fmt: skip
        return await self._contacts.record(dispatcher, ctx, request, ack="utter_lead_ack_interest")


def above_level(products: list[Product], level: str | None) -> list[Product]:
    """The products a client at `level` may not buy (none when the level is unknown)."""
    if level is None:
        return []
    return [p for p in products if int(p.risk_level[1]) > int(level[1])]


def explain_suitability(
    dispatcher: CollectingDispatcher, products: list[Product], level: str, language: str
) -> list[EventType]:
    """Why the product is not for this client, kindly, with what they may look at instead; never a lead."""
    product = products[0]
    name = product.name_en if language == "en" and product.name_en else product.name
    name_zh, name_en = LEVEL_NAMES[level]
    dispatcher.utter_message(
        response="utter_suitability",
        product_code=product.code,
        product_name=name,
        product_level=product.risk_level,
        level=level,
        level_name_zh=name_zh,
        level_name_en=name_en,
        allowed=f"R{level[1]}",
    )
    return [SlotSet("product_focus", [product.code])]
