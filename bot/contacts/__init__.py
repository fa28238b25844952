"""Contact preferences: do-not-contact (marketing opt-outs) and investor risk profiles (C1–C5).

Public surface: `bot.contacts.service` (plain functions taking a session) and the tables in
`bot.contacts.models`.
"""
