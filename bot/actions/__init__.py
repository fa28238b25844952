"""Rasa custom actions, served by the app itself at POST /webhook (rasa-sdk's contract)."""

# The header carrying the shared secret Rasa sends with every action call (settings.rasa.action_secret).
ACTION_SECRET_HEADER = "X-Action-Secret"
