"""The coordinators' web dashboard (part of the bot layer: it reads through ``web.data``).

``web.server`` builds the service's one aiohttp application (the Zalo webhook and the
dashboard); ``web.dashboard`` holds the pages; ``web.auth`` who may see them; ``web.data`` what
they read and ``web.storage_data`` where from.
"""
