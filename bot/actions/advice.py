"""Suitable suggestions and recorded interest. Suitability is enforced in bot.advice, never here."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.confirm import PENDING, GatedAction, unsure
from bot.actions.context import TurnContext, turn_context
from bot.advice.service import is_suitable
from bot.compliance import disclosures_for
from bot.flows import DialogueFlows, LeadRequest
from bot.knowledge.models import Product


def _int_slot(tracker: Tracker, slot: str) -> int | None:
    value = tracker.get_slot(slot)
    return int(str(value)) if value is not None else None


def product_line(product: Product, language: str) -> str:
    """One approved line per product: name, code, risk level and its approved description."""
    name = product.name_en if language == "en" and product.name_en else product.name
    line = f"• {name}（{product.code}，{product.risk_level}）：{product.description.strip()}"
    return line if language == "zh" else line.replace("（", " (").replace("，", ", ").replace("）：", "): ")


class ActionRecommend(Action):
    """ask_recommendation: offers the assessment when the level is unknown; else suitable products only."""

    def __init__(self, flows: DialogueFlows) -> None:
        self._flows = flows

    def name(self) -> str:
        return "action_recommend"

    async def _level(self, tracker: Tracker, ctx: TurnContext) -> str | None:
        level = tracker.get_slot("risk_level")
        if level:
            return str(level)
        today = datetime.now(ZoneInfo(self._flows.settings.timezone)).date()
        return await self._flows.risk_level(ctx.client_key, today)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = turn_context(tracker)
        level = await self._level(tracker, ctx)
        if level is None:
            dispatcher.utter_message(response="utter_recommendation_needs_assessment")
            return [SlotSet("pending_offer", "assessment"), SlotSet(PENDING, None)]
        named = [
            p for p in self._flows.find_products(ctx.text) if is_suitable(p, client_level=level, channel=ctx.channel)
        ]
        confident = not unsure(self._flows.settings.confirm_below, "lead", ctx)
        if named and confident:  # the client chose a product: a lead (unsure: the follow-up invites one)
            await self._flows.record_lead(
                LeadRequest(
                    client_key=ctx.client_key, sender_id=ctx.sender_id, channel=ctx.channel, type="product_interest",
                    intent=ctx.intent or "ask_recommendation", confidence=ctx.confidence, evidence=ctx.text,
                    product_codes=[p.code for p in named],
                )
            )  # fmt: skip
        products = named or self._flows.suggestions(
            level=level,
            channel=ctx.channel,
            objective=_int_slot(tracker, "q_objective"),
            horizon=_int_slot(tracker, "q_horizon"),
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
        return [SlotSet("risk_level", level), SlotSet("recommended_products", [p.code for p in products])]


class ActionRecordInterest(GatedAction):
    """express_interest: a product_interest lead for the products named (or last suggested)."""

    effect = "lead"
    question = "utter_confirm_lead"

    def name(self) -> str:
        return "action_record_interest"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        codes = [p.code for p in self._flows.find_products(ctx.text)]
        suggested = tracker.get_slot("recommended_products") or []
        if not codes and len(suggested) == 1:
            codes = list(suggested)
        await self._flows.record_lead(
            LeadRequest(
                client_key=ctx.client_key, sender_id=ctx.sender_id, channel=ctx.channel, type="product_interest",
                intent=ctx.intent or "express_interest", confidence=ctx.confidence, evidence=ctx.text,
                product_codes=codes,
            )
        )  # fmt: skip
        dispatcher.utter_message(response="utter_express_interest", contact_hours=self._contact_hours(ctx))
        return []

    def _contact_hours(self, ctx: TurnContext) -> str:
        return contact_hours(self._flows, ctx.language)


def contact_hours(flows: DialogueFlows, language: str) -> str:
    """The promised contact window in the client's language (config: dialogue.advisor_contact_hours)."""
    return flows.settings.advisor_contact_hours_zh if language == "zh" else flows.settings.advisor_contact_hours
