"""The channel-neutral dialog core: neutral events in, neutral replies out."""
