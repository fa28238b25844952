"""The shared core every domain may use: bot messages and citations, who the bot speaks for, the audit
trail of blocked messages, and personal-data masking. It imports nothing of ours above bot.settings.
"""
