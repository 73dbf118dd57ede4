"""Chat adapters (Telegram, Slack): platform events in, calls of the shared core out."""
