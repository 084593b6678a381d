"""When to remind whom: the working calendar, the reminder policy, the jobs and the outbox.

Imports storage, never the bot: channels reach it through the Messenger protocol.
"""
