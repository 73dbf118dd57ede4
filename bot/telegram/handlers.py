"""Telegram update handlers: small ``async def handler(update, context)`` functions over the shared core.

Model work runs in a worker thread; the event loop only sends, edits and acknowledges. In groups
the bot answers only messages that mention it or reply to it (checked here, before the model).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ChatAction, ChatType, MessageEntityType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import request_context, texts
from bot.core import Answer, BotCore, ConversationKey, Gate, GeneratorBusy, RefreshStart
from bot.streaming import in_thread
from bot.telegram.render import answer_parts, preview

log = logging.getLogger(__name__)

PLATFORM = "telegram"
TYPING_EVERY_SECONDS = 4.0
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True)
class TelegramConfig:
    admins: frozenset[str]
    edit_interval_seconds: float = 1.5


async def tag_request(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Mark what this update's handling logs with its request id (telegram:chat:update)."""
    chat = update.effective_chat.id if update.effective_chat else None
    request_context.set_request(PLATFORM, chat, update.update_id)


def core_of(context: ContextTypes.DEFAULT_TYPE) -> BotCore:
    return context.application.bot_data["core"]


def config_of(context: ContextTypes.DEFAULT_TYPE) -> TelegramConfig:
    return context.application.bot_data["config"]


# -- commands ---------------------------------------------------------------------------------------
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.WELCOME)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.HELP)


async def reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await asyncio.to_thread(core_of(context).reset, conversation_key(update))
    await update.effective_message.reply_text(texts.RESET_DONE)


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for confirmation; only the same user's press on "yes" deletes their data."""
    user = str(update.effective_user.id)
    buttons = InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.FORGET_YES, callback_data=f"forget:yes:{user}"),
        InlineKeyboardButton(texts.FORGET_NO, callback_data=f"forget:no:{user}"),
    ]])
    await update.effective_message.reply_text(texts.FORGET_CONFIRM, reply_markup=buttons)


async def forget_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, choice, owner = (query.data or "::").split(":", 2)
    if str(query.from_user.id) != owner:
        await query.answer("Este botón es de otra persona.")
        return
    await query.answer()
    if choice == "yes":
        await asyncio.to_thread(core_of(context).forget, PLATFORM, owner)
        await query.edit_message_text(texts.FORGET_DONE)
    else:
        await query.edit_message_text(texts.FORGET_CANCELLED)


async def refresh(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins only: acknowledge at once, refresh in the background, then send the report."""
    user = str(update.effective_user.id)
    message = update.effective_message
    ticket = await asyncio.to_thread(core_of(context).request_refresh, PLATFORM, user,
                                     admin=user in config_of(context).admins)
    if ticket.start is RefreshStart.REFUSED:
        await message.reply_text(texts.REFRESH_REFUSED)
        return
    if ticket.start is RefreshStart.BUSY:
        await message.reply_text(texts.refresh_busy(ticket.running))
        return
    await message.reply_text(texts.REFRESH_STARTED)
    assert ticket.report is not None
    context.application.create_task(_send_report(message, asyncio.wrap_future(ticket.report)), update=update)


async def _send_report(message: Message, report: asyncio.Future) -> None:  # type: ignore[type-arg]
    try:
        text = texts.refresh_report(await report)
    except Exception as exc:  # the core logged and audited it; the admin gets the reason
        text = texts.REFRESH_FAILED.format(error=exc)
    await message.reply_text(text, link_preview_options=NO_PREVIEW)


# -- messages ---------------------------------------------------------------------------------------
async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    text = addressed_text(message, context.bot.username, context.bot.id)
    if text is None:
        return
    core = core_of(context)
    gate = await core.gate(PLATFORM, str(update.effective_user.id), text)
    if gate is not Gate.OK:
        await message.reply_text(texts.gate_reply(gate, core.max_message_chars))
        return
    if core.in_flight.stopping:
        await message.reply_text(texts.SHUTTING_DOWN)
        return
    if not core.has_room(PLATFORM):
        await message.reply_text(texts.BUSY)
        return
    async with core.in_flight.track(lambda: message.reply_text(texts.SHUTTING_DOWN)), typing(context, message.chat_id):
        try:
            if ahead := core.questions_ahead():  # a long wait: say so now, with the question's place
                await message.reply_text(texts.queued(ahead))
            throttle = context.chat_data.setdefault("edits", EditThrottle(config_of(context).edit_interval_seconds))
            await _stream_answer(message, core, conversation_key(update), text, throttle)
        except GeneratorBusy:
            await message.reply_text(texts.BUSY)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice notes, documents...: only text is read."""
    message = update.effective_message
    if addressed_text(message, context.bot.username, context.bot.id) is not None:
        await message.reply_text(texts.ONLY_TEXT)


async def feedback_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, value, message_id = (query.data or "::").split(":", 2)
    if update.effective_chat is None:  # a button on an inline message: no answer of ours is stored there
        await query.answer(texts.FEEDBACK_GONE)
        return
    key = ConversationKey(PLATFORM, str(update.effective_chat.id), str(query.from_user.id))
    stored = await asyncio.to_thread(core_of(context).feedback, int(message_id), key, 1 if value == "+1" else -1)
    await query.answer(texts.FEEDBACK_THANKS if stored else texts.FEEDBACK_GONE)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any failure: logged with the update id, and a polite apology instead of silence."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error handling update %s", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        with contextlib.suppress(Exception):
            await context.bot.send_message(update.effective_chat.id, texts.ERROR)


# -- helpers ----------------------------------------------------------------------------------------
def conversation_key(update: Update) -> ConversationKey:
    """Conversations are kept per chat and user."""
    return ConversationKey(PLATFORM, str(update.effective_chat.id), str(update.effective_user.id))


def addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The message's text when it is meant for the bot (private chat, mention or reply), else None."""
    text = message.text or message.caption or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return text
    mention = f"@{bot_username}".lower()
    entities = message.parse_entities() if message.text else message.parse_caption_entities()
    for entity, value in entities.items():
        if (entity.type == MessageEntityType.MENTION and value.lower() == mention) or (
                entity.type == MessageEntityType.TEXT_MENTION and entity.user and entity.user.id == bot_id):
            return (text[: entity.offset] + text[entity.offset + entity.length:]).strip()
    return None


@contextlib.asynccontextmanager
async def typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" at once and keep it up (it fades after ~5 s) until the block ends."""
    async def keep_typing() -> None:
        while True:
            with contextlib.suppress(Exception):
                await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY_SECONDS)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()


class EditThrottle:
    """At most one message edit per interval in a chat (kept in the chat's data, shared by its answers)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last = 0.0

    def ready(self) -> bool:
        return time.monotonic() - self.last >= self.interval

    async def wait(self) -> None:
        delay = self.interval - (time.monotonic() - self.last)
        if delay > 0:
            await asyncio.sleep(delay)

    def mark(self) -> None:
        self.last = time.monotonic()


async def _stream_answer(message: Message, core: BotCore, key: ConversationKey, text: str,
                         throttle: EditThrottle) -> None:
    """Show the answer growing (throttled edits of one message), then its final parts with sources and buttons."""
    sent: Message | None = None
    shown = ""
    answer: Answer | None = None
    draft = ""
    async for item in in_thread(core.stream(key, text), core.answer_pool):
        if isinstance(item, Answer):
            answer = item
            continue
        draft += item
        if not draft.strip() or (sent is not None and not throttle.ready()):
            continue
        html = preview(draft)
        if sent is None:
            sent = await message.reply_text(html, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)
        elif html != shown:
            await _edit(sent, html, None)
        shown = html
        throttle.mark()
    assert answer is not None
    sources = [(s.url, s.title) for s in answer.sources]
    parts = answer_parts(answer.text, sources, texts.SOURCES)
    buttons = _feedback_buttons(answer.message_id) if core.wants_feedback(answer) else None
    for i, part in enumerate(parts):
        markup = buttons if i == len(parts) - 1 else None
        if i == 0 and sent is not None:
            await throttle.wait()
            await _edit(sent, part, markup)
            throttle.mark()
        else:
            await message.reply_text(part, parse_mode=ParseMode.HTML, reply_markup=markup,
                                     link_preview_options=NO_PREVIEW)


async def _edit(sent: Message, html: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await sent.edit_text(html, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def _feedback_buttons(message_id: int | None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton("👍", callback_data=f"fb:+1:{message_id}"),
        InlineKeyboardButton("👎", callback_data=f"fb:-1:{message_id}"),
    ]])
