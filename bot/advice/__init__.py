"""Suitable product suggestions (适当性): only on-sale products at or below the client's level."""
