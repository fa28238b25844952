"""The gateway between channels and the Rasa dialogue server."""
