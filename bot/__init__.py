"""The bot: a channel-neutral dialog core, one adapter per channel, texts, CLI and wiring."""
