"""A refresh killed with SIGKILL at any moment leaves the previous index or the new one, never a mix, and the
conversation history intact (a real `tuyabot refresh` subprocess, killed while it writes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from storage.conversations import ConversationKey, Turn
from tests import fixture_site
from tests.chat_server import ChatServer, scripted_env
from tests.conftest import make_settings
from tests.doubles import grounded_model
from tests.waiting import wait_until
from tuyabot.components import Components

KEY = ConversationKey("telegram", "500", "500")
ASKER = ConversationKey("telegram", "321", "321")
KILL_AFTER = (0.0, 0.05, 0.2, 0.5, 1.0, 3.0)  # seconds after the new index version appears


def _state(data: Path, models_dir: Path, key: ConversationKey = KEY) -> tuple[frozenset[str], list[Turn]]:
    """What a restarted service would serve (the live index's chunks) and the stored history."""
    components = Components(make_settings(data, models_dir), progress=False)
    try:
        return frozenset(c.text for c in components.store.all_chunks()), components.conversations.history(key)
    finally:
        components.close()


def test_a_refresh_killed_at_any_moment_leaves_one_whole_index_and_the_history(site, tmp_path: Path,
                                                                                models_dir: Path) -> None:
    s, base = site
    data = tmp_path / "data"
    env = {**os.environ, "TUYABOT_PROFILE": "offline", "TUYABOT_DATA_DIR": str(data),
           "TUYABOT_MODELS_DIR": str(models_dir), "EMBEDDING_MODEL": "all-minilm-l6-v2", "CRAWL_DELAY_SECONDS": "0",
           "CRAWL_BASE_URL": base, "ADMIN_HTTP_PORT": "0",
           "LLM_KEEP_UNIT_STATE": "false"}  # the index alone: no model's unit states computed after the switch
    tuyabot = str(Path(sys.executable).with_name("tuyabot"))
    subprocess.run([tuyabot, "index"], env=env, check=True, capture_output=True)
    components = Components(make_settings(data, models_dir), progress=False)
    components.conversations.add_message(KEY, "user", "¿Qué es la Tarjeta Oro?")
    components.conversations.add_message(KEY, "assistant", "Una tarjeta de crédito de TUYA.")
    components.close()
    v1, history = _state(data, models_dir)
    fixture_site.build_v2(s)
    seen = [_refresh_killed_while_crawling(s, tuyabot, env, data, models_dir)]  # before the switch, surely
    assert seen[0] == v1 and _state(data, models_dir)[1] == history
    for delay in KILL_AFTER:
        finished = _refresh_killed_after(tuyabot, env, data / "qdrant" / "collection", delay)
        chunks, after = _state(data, models_dir)
        assert after == history
        seen.append(chunks)
        if finished:
            break
    assert finished, "the refresh never got to finish: give it longer"
    v2 = seen[-1]
    assert v2 != v1
    assert all(chunks in (v1, v2) for chunks in seen), "a killed refresh left a mix of two versions"


def _refresh_killed_while_crawling(site, tuyabot: str, env: dict[str, str], data: Path,  # type: ignore[no-untyped-def]
                                   models_dir: Path) -> frozenset[str]:
    """SIGKILL a `tuyabot refresh` whose crawl is held by the site (it cannot have switched yet); the index
    a restarted service would then serve."""
    released = site.hold()
    asked = len(site.requests)
    process = subprocess.Popen([tuyabot, "refresh"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: len(site.requests) > asked or process.poll() is not None, 180, "the crawl asking")
        assert process.poll() is None  # it waits for the held page
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        site.released = None
        released.set()
    return _state(data, models_dir)[0]


def _refresh_killed_after(tuyabot: str, env: dict[str, str], collections: Path, delay: float) -> bool:
    """Run `tuyabot refresh`, SIGKILL it ``delay`` s after it creates its new index version; True when it
    finished before that."""
    before = set(os.listdir(collections))
    process = subprocess.Popen([tuyabot, "refresh"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: process.poll() is not None or not set(os.listdir(collections)) <= before, 180,
               "a new index version")
    if process.poll() is not None:
        return process.returncode == 0
    time.sleep(delay)  # the moment of the kill is what varies: any of them must leave one whole index
    if process.poll() is not None:
        return process.returncode == 0
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    return False


def test_a_service_killed_while_generating_restarts_and_answers_with_nothing_half_stored(
        emulator, site, indexed_data_dir: Path, models_dir: Path) -> None:
    """The model streams its first piece and then waits for the test: the kill lands while the answer is being
    generated, on any CPU."""
    from tests.telegram_emulator import CompatProxy, User

    _, base = site
    proxy = CompatProxy(emulator)
    model = ChatServer(list(grounded_model().pieces), hold_after=1)
    token = "5151:crash-token"
    data = indexed_data_dir
    env = {**os.environ, "TUYABOT_PROFILE": "offline", "TUYABOT_DATA_DIR": str(data),
           "TUYABOT_MODELS_DIR": str(models_dir), "EMBEDDING_MODEL": "all-minilm-l6-v2", "CRAWL_DELAY_SECONDS": "0",
           "CRAWL_BASE_URL": base, "ADMIN_HTTP_PORT": "0", "TELEGRAM_BOT_TOKEN": token,
           "TELEGRAM_API_BASE_URL": proxy.base_url, "TELEGRAM_EDIT_INTERVAL_SECONDS": "0.2", **scripted_env(model)}
    tuyabot = str(Path(sys.executable).with_name("tuyabot"))
    user = User(emulator, token, 321)
    try:
        first = subprocess.Popen([tuyabot, "serve", "telegram"], env=env, stderr=subprocess.DEVNULL)
        proxy.wait_for(lambda calls: any(c.method == "setMyCommands" for c in calls), 180)
        user.send("¿La Tarjeta Oro sirve fuera de Colombia?")
        assert model.holding.wait(180)  # the answer is being generated, and stays so until released
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
        assert _state(data, models_dir, ASKER)[1] == []  # the interrupted answer left no half of an exchange
        model.release()
        second = subprocess.Popen([tuyabot, "serve", "telegram"], env=env, stderr=subprocess.PIPE, text=True)
        try:
            proxy.wait_for(lambda calls: len([c for c in calls if c.method == "setMyCommands"]) >= 2, 180)
            user.send("¿Y la Tarjeta Oro tiene cuota de manejo?")
            proxy.wait_for(lambda calls: any("fb:" in str(c.params.get("reply_markup")) for c in calls), 180)
        finally:
            second.terminate()
            logs = second.communicate(timeout=60)[1]
        assert second.returncode == 0, logs[-2000:]
        roles = [turn.role for turn in _state(data, models_dir, ASKER)[1]]  # (the first may be redelivered)
        assert roles and roles == ["user", "assistant"] * (len(roles) // 2)
    finally:
        proxy.close()
        model.close()
