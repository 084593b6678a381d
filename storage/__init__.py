"""Storage: the tables, the engine and sessions, the plan file, named queries and migrations.

Nothing here imports the scheduler or the bot.
"""
