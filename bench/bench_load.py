"""Load: many Telegram users and Slack threads asking at once against one `tuyabot serve` (both platforms).

Runs the service as a subprocess against the Telegram Bot API emulator and the fake Slack Web API the
tests use (real HTTP, real client libraries), over an index of the shared site v1. Each simulated
conversation asks its questions one after the other (the next once the previous is answered), all
conversations at once. Prints: replies per message (none lost, none doubled), order per conversation,
polite "busy" replies past the queue bound, time to the first reply and end to end (p50/p95), answers
per minute, and the service's peak RSS, with the CPU.

    TUYABOT_PROFILE=offline .venv/bin/python -m bench.bench_load [--telegram-users 50] [--slack-threads 20]
        [--questions 2] [--model smollm2-135m-instruct] [--queue-size 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.common import percentiles, shared_site
from bot import texts
from rag.evaluation import load_questions
from rag.hardware import SHOWN_FLAGS, cpu_flags, cpu_model
from tests.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack, signed
from tests.telegram_emulator import CompatProxy, Emulator, User, free_port
from tuyabot.settings import get_settings

SECRET = "bench-signing-secret-0123456789abcdef"
CANNED = (texts.BUSY, texts.ERROR, texts.RATE_LIMITED)


@dataclass
class Conversation:
    """One simulated user: what it asked, when, and when each reply came."""

    name: str
    sent_at: list[float] = field(default_factory=list)
    first_reply_s: list[float] = field(default_factory=list)
    done_s: list[float] = field(default_factory=list)
    busy: int = 0
    finals: int = 0  # final replies seen at the end (more than questions asked = a doubled answer)


def final_replies(platform: str, calls: list, chat: str) -> list[object]:  # type: ignore[type-arg]
    """The replies that end an answer in one conversation (the message with 👍/👎, or a canned reply)."""
    if platform == "telegram":
        mine = [c for c in calls if str(c.params.get("chat_id")) == chat]
        return [c for c in mine if "fb:" in json.dumps(c.params.get("reply_markup") or {})
                or c.params.get("text") in CANNED]
    mine = [c for c in calls if c.args.get("channel") == chat and c.method == "chat.postMessage"]
    return [c for c in mine if any(b.get("type") == "actions" for b in c.args.get("blocks") or [])
            or c.args.get("text") in CANNED]


def any_reply(platform: str, calls: list, chat: str) -> int:  # type: ignore[type-arg]
    if platform == "telegram":
        return sum(1 for c in calls if str(c.params.get("chat_id")) == chat and c.method == "sendMessage")
    return sum(1 for c in calls if c.args.get("channel") == chat and c.method == "chat.postMessage")


def converse(platform: str, send, calls, chat: str, questions: list[str], conv: Conversation) -> None:  # type: ignore[no-untyped-def]
    """Ask each question once the previous one is answered; record the times."""
    for n, question in enumerate(questions):
        replies_before = any_reply(platform, calls(), chat)
        conv.sent_at.append(time.monotonic())
        send(question)
        first = None
        while len(final_replies(platform, calls(), chat)) <= n:
            if first is None and any_reply(platform, calls(), chat) > replies_before:
                first = time.monotonic() - conv.sent_at[-1]
            if time.monotonic() - conv.sent_at[-1] > 1800:
                return
            time.sleep(0.5)
        done = time.monotonic() - conv.sent_at[-1]
        print(f"{conv.name} question {n + 1}: {done:.1f} s", file=sys.stderr, flush=True)
        conv.first_reply_s.append(first if first is not None else done)
        conv.done_s.append(done)
        last = final_replies(platform, calls(), chat)[-1]
        text = last.params.get("text") if platform == "telegram" else last.args.get("text")  # type: ignore[attr-defined]
        conv.busy += text == texts.BUSY
    time.sleep(5)  # a doubled answer would come now
    conv.finals = len(final_replies(platform, calls(), chat))


def slack_sender(port: int, channel: str):  # type: ignore[no-untyped-def]
    thread_ts = f"{time.time():.6f}"

    def send(question: str) -> None:
        event = {"type": "app_mention", "user": f"U{channel}", "text": f"<@{BOT_USER_ID}> {question}",
                 "channel": channel, "ts": f"{time.time():.6f}", "thread_ts": thread_ts}
        body = json.dumps({"token": "t", "team_id": TEAM_ID, "api_app_id": "A1", "type": "event_callback",
                           "event": event, "event_id": f"Ev{channel}{time.monotonic_ns()}",
                           "event_time": int(time.time())})
        httpx.post(f"http://127.0.0.1:{port}/slack/events", content=body, timeout=30,
                   headers={"Content-Type": "application/json", **signed(body, SECRET)}).raise_for_status()
    return send


class PeakRss:
    """Samples a process's resident memory (with its children) until stopped."""

    def __init__(self, pid: int) -> None:
        self.process, self.peak, self.running = psutil.Process(pid), 0, True
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while self.running:
            try:
                procs = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                return
            time.sleep(0.5)


def run(args: argparse.Namespace) -> None:
    settings = get_settings()
    questions = [q["turns"][0] for q in load_questions(settings.shared_dir / "eval" / "dev.jsonl")
                 if q.get("source")]
    emulator, fake = Emulator(), FakeSlack()
    proxy = CompatProxy(emulator)
    token, slack_port, admin_port = "8888:bench-token", free_port(), free_port()
    with tempfile.TemporaryDirectory() as data, shared_site(settings, "v1") as base:
        env = {**os.environ, "TUYABOT_DATA_DIR": data, "TUYABOT_MODELS_DIR": str(settings.models_dir),
               "EMBEDDING_MODEL": args.embedder, "LLM_MODEL": args.model, "LLM_QUEUE_SIZE": str(args.queue_size),
               "LLM_MAX_NEW_TOKENS": str(args.max_new_tokens), "CRAWL_BASE_URL": base, "CRAWL_DELAY_SECONDS": "0",
               "BOT_RATE_LIMIT": "1000/minute", "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": proxy.base_url,
               "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_MODE": "http",
               "SLACK_HTTP_PORT": str(slack_port), "SLACK_API_URL": fake.api_url, "ADMIN_HTTP_PORT": str(admin_port)}
        tuyabot = str(Path(sys.executable).with_name("tuyabot"))
        subprocess.run([tuyabot, "index"], env=env, check=True, capture_output=True)
        service = subprocess.Popen([tuyabot, "serve"], env=env, stderr=subprocess.DEVNULL)
        rss = PeakRss(service.pid)
        try:
            wait_ready(f"http://127.0.0.1:{admin_port}/readyz")
            conversations = simulate(args, questions, emulator, proxy, fake, token, slack_port)
        finally:
            rss.running = False
            service.terminate()
            service.wait(120)
    report(args, conversations, rss.peak)
    proxy.close()
    emulator.close()
    fake.close()


def wait_ready(url: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the service never became ready")


def simulate(args, questions, emulator, proxy, fake, token, slack_port) -> list[Conversation]:  # type: ignore[no-untyped-def]
    """Every conversation at once, each in its own thread; returns them when all are done."""
    jobs, conversations = [], []
    for i in range(args.telegram_users):
        conv, user = Conversation(f"telegram:{9000 + i}"), User(emulator, token, 9000 + i)
        asked = [questions[(i + k) % len(questions)] for k in range(args.questions)]
        jobs.append(threading.Thread(target=converse, args=("telegram", user.send, proxy.calls, str(9000 + i),
                                                            asked, conv)))
        conversations.append(conv)
    for i in range(args.slack_threads):
        channel = f"CB{i:04d}"
        conv = Conversation(f"slack:{channel}")
        asked = [questions[(i + k) % len(questions)] for k in range(args.questions)]
        jobs.append(threading.Thread(target=converse, args=("slack", slack_sender(slack_port, channel),
                                                            lambda: list(fake.calls), channel, asked, conv)))
        conversations.append(conv)
    started = time.monotonic()
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    args.elapsed_s = time.monotonic() - started
    return conversations


def report(args: argparse.Namespace, conversations: list[Conversation], peak_rss: int) -> None:
    sent = sum(len(c.sent_at) for c in conversations)
    answered = sum(len(c.done_s) for c in conversations)
    busy = sum(c.busy for c in conversations)
    first = [s * 1000 for c in conversations for s in c.first_reply_s]
    done = [s * 1000 for c in conversations for s in c.done_s]
    flags = cpu_flags()
    print(f"CPU: {cpu_model()}; flags: {' '.join(f for f in SHOWN_FLAGS if f in flags)}")
    print(f"model {args.model}, embedder {args.embedder}, queue size {args.queue_size}; "
          f"{args.telegram_users} Telegram users + {args.slack_threads} Slack threads x {args.questions} questions")
    doubled = sum(max(0, c.finals - len(c.sent_at)) for c in conversations)
    print(f"messages sent {sent}, answered {answered} (lost {sent - answered}, doubled {doubled}); "
          f"polite busy replies {busy}")
    print(f"first reply: {percentiles(first)}")
    print(f"end to end: {percentiles(done)}")
    print(f"answers per minute: {(answered - busy) / args.elapsed_s * 60:.1f} over {args.elapsed_s:.0f} s")
    print(f"peak RSS of the service: {peak_rss / 2**30:.2f} GiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--telegram-users", type=int, default=50)
    parser.add_argument("--slack-threads", type=int, default=20)
    parser.add_argument("--questions", type=int, default=2)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--embedder", default="all-minilm-l6-v2")
    parser.add_argument("--queue-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
