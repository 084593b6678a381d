"""Storage: the tables, the engine and sessions, the plan file, one module of queries per
aggregate (plans, people, invites, reports, outbox, dialog states), read models, migrations.

Nothing here imports the scheduler or the bot.
"""
