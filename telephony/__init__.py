"""Outbound voice over Twilio: the provider seam and adapter, our own signed webhooks, and a simulator.

provider.py / twilio_provider.py / factory.py  placing calls (the only REST use of the twilio SDK)
views.py / service.py / twiml.py / speech.py   the /voice webhooks: TwiML for each turn through Rasa
signature.py / models.py                       X-Twilio-Signature checks and typed Twilio forms
store.py / openings.py / texts.py              campaign attempts, approved openings, the channel's own lines
simulator/                                     a local Twilio stand-in (`advisor telephony simulate`)
"""
