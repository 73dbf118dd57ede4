"""Web chat adapter: one page and a JSON / server-sent-events API over the shared core (aiohttp)."""
