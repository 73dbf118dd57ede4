"""Wiring: one python-telegram-bot Application with every handler, run by long polling or a webhook."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from urllib.parse import urlparse

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.core import BotCore
from bot.in_flight import InFlight
from bot.platforms import PlatformSetupError
from bot.telegram import handlers
from bot.telegram.delivery import RetryingRateLimiter
from tuyabot.settings import Settings

COMMANDS = [
    ("start", "Qué hace TuyaBot"),
    ("help", "Cómo hacer preguntas"),
    ("reset", "Empezar una conversación nueva"),
    ("olvidar", "Borrar todos mis datos guardados"),
]
NOT_TEXT = (filters.PHOTO | filters.Sticker.ALL | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE
            | filters.Document.ALL | filters.ANIMATION | filters.LOCATION | filters.CONTACT)


class TelegramSetupError(PlatformSetupError):
    """The Telegram settings cannot start a bot (e.g. no token)."""


@dataclass(frozen=True)
class Webhook:
    url: str
    listen: str
    port: int
    path: str
    secret: str


def build_application(core: BotCore, settings: Settings) -> Application:
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise TelegramSetupError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token "
                                 "in .env (see README, 'Telegram')")
    app = (ApplicationBuilder().token(settings.telegram_bot_token.get_secret_value())
           .base_url(settings.telegram_api_base_url).concurrent_updates(16).post_init(_register_commands)
           .rate_limiter(RetryingRateLimiter(max_retries=3)).build())  # flood limits kept; 429s and 5xx retried
    app.bot_data["core"] = core
    app.bot_data["config"] = handlers.TelegramConfig(settings.telegram_admins, settings.telegram_edit_interval_seconds)
    app.add_handler(TypeHandler(Update, handlers.tag_request), group=-1)  # the request id, before any handler
    # new messages only: channel posts (no user to answer; the bot would speak for the channel) and edits
    # (a question already answered) are ignored by design
    new = filters.UpdateType.MESSAGE
    for command, handler in (("start", handlers.start), ("help", handlers.help_command), ("reset", handlers.reset),
                             ("olvidar", handlers.forget), ("refresh", handlers.refresh)):
        app.add_handler(CommandHandler(command, handler, filters=new))
    app.add_handler(CallbackQueryHandler(handlers.feedback_pressed, pattern=r"^fb:[+-]1:\d+$"))
    app.add_handler(CallbackQueryHandler(handlers.forget_pressed, pattern=r"^forget:(yes|no):"))
    app.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, handlers.question))
    app.add_handler(MessageHandler(new & NOT_TEXT, handlers.not_text))
    app.add_error_handler(handlers.on_error)
    return app


def webhook_of(settings: Settings) -> Webhook | None:
    """Webhook mode when TELEGRAM_WEBHOOK_URL is set (served on the configured local address)."""
    if not settings.telegram_webhook_url:
        return None
    secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else ""
    return Webhook(settings.telegram_webhook_url, settings.telegram_webhook_listen, settings.telegram_webhook_port,
                   urlparse(settings.telegram_webhook_url).path.strip("/"), secret or secrets.token_urlsafe(32))


async def start(app: Application, webhook: Webhook | None) -> None:
    """Start answering (non-blocking): long polling, or the webhook server with Telegram's secret token checked."""
    await app.initialize()
    if app.post_init:  # run_polling/run_webhook call it themselves
        await app.post_init(app)
    await app.start()
    if webhook is None:
        await app.updater.start_polling(timeout=10)
    else:
        await app.updater.start_webhook(listen=webhook.listen, port=webhook.port, url_path=webhook.path,
                                        webhook_url=webhook.url, secret_token=webhook.secret)


async def stop(app: Application, in_flight: InFlight, grace_seconds: float) -> None:
    """Stop taking updates, let answers in progress finish (up to ``grace_seconds``; the rest are told to ask
    again), then close."""
    if app.updater.running:
        await app.updater.stop()
    await in_flight.drain(grace_seconds)
    if app.running:
        await app.stop()
    await app.shutdown()


async def serve(app: Application, settings: Settings, in_flight: InFlight) -> None:
    """Serve Telegram (long polling, or the webhook when TELEGRAM_WEBHOOK_URL is set) until cancelled."""
    await start(app, webhook_of(settings))
    try:
        await asyncio.Event().wait()
    finally:
        await stop(app, in_flight, settings.shutdown_grace_seconds)


build = build_application


async def _register_commands(app: Application) -> None:
    await app.bot.set_my_commands([BotCommand(name, description) for name, description in COMMANDS])
