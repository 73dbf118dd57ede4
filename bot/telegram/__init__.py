"""Telegram adapter: python-telegram-bot handlers over the shared core, Telegram HTML rendering."""
