"""Channel adapters: turn a platform's updates into neutral events and replies into API calls."""
