"""Rasa custom actions, served by the app itself at POST /webhook (rasa-sdk's contract)."""
