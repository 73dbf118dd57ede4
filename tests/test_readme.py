"""Every command the README shows a newcomer ("Quick start" and "Using it"), run as written, in its own process,
from a folder laid out like the repository's (`.venv` beside `../shared`).

The README's first command (`bash .ci/install && .venv/bin/tuyabot demo`) is run whole but for the install,
which `.ci/run` has just done: the demo with the offline profile's own models, on an empty data folder, must end
with a streamed answer citing a tuya.com.co page. The "Using it" commands run over the shared TUYA site with the
small embedder and a scripted model server (what they print is the product's plumbing, not a model's wording).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.chat_server import ChatServer, scripted_env
from tests.conftest import REPO

pytestmark = pytest.mark.acceptance

SHARED = Path(os.environ.get("TUYABOT_SHARED_DIR", REPO.parent / "shared")).resolve()
if not (SHARED / "site" / "serve.py").is_file():
    pytest.skip(f"shared TUYA site not found in {SHARED}", allow_module_level=True)

README = (REPO / "README.md").read_text(encoding="utf-8")
FIRST_COMMAND = "bash .ci/install && .venv/bin/tuyabot demo"


def readme_commands(section: str) -> list[str]:
    """The commands of the first ```bash block under ``## {section}`` / ``### {section}``, comments and
    [optional] parts removed."""
    after = README.split(f"# {section}\n", 1)[1]
    block = after.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        line = re.sub(r"\s*\[[^\]]*\]", "", line)
        if line and not line.startswith("#"):
            commands.append(line)
    return commands


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder where the README's relative paths resolve: `.venv` and the eval set inside, `../shared` beside it."""
    work = tmp_path / "repo"
    work.mkdir()
    (work / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (work / "bench").symlink_to(REPO / "bench")
    (tmp_path / "shared").symlink_to(SHARED)
    return work


def run(command: str, cwd: Path, env: dict[str, str], stdin: str = "", timeout: float = 900
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, input=stdin, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.llm
def test_the_first_command_ends_with_a_streamed_cited_answer(checkout: Path, models_dir: Path) -> None:
    assert readme_commands("Quick start")[0] == FIRST_COMMAND
    env = {**os.environ, "TUYABOT_MODELS_DIR": str(models_dir)}  # the offline models .ci/run fetched
    for name in ("TUYABOT_DATA_DIR", "TUYABOT_SHARED_DIR", "TUYABOT_PROFILE", "EMBEDDING_MODEL", "LLM_MODEL"):
        env.pop(name, None)  # nothing but what a newcomer has
    demo = run(FIRST_COMMAND.split(" && ", 1)[1], checkout, env)  # .ci/run has done the install
    assert demo.returncode == 0, demo.stderr[-3000:]
    out = demo.stdout
    assert "added: 18" in out and (checkout / "data").is_dir()  # indexed into the empty data folder
    answer = out.split("tuyabot> ", 1)[1]
    text, sources = answer.split("Fuentes:", 1)
    assert re.search(r"\w{3}", text), out
    assert re.search(r"^\s+- .+: https://www\.tuya\.com\.co/\S+$", sources, re.MULTILINE), out
    assert "tuyabot chat" in out  # what to try next


@pytest.fixture
def shared_site() -> Iterator[str]:
    from bench.common import load_module

    server = load_module("tuya_site_serve", SHARED / "site" / "serve.py").make_server("v1")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


ANSWER = "Así puedes pagar tu Credicompras: por PSE, con el Botón Bancolombia o en Efecty."


def _checks() -> dict[str, Callable[[subprocess.CompletedProcess[str]], bool]]:
    """What each command of "Using it" must print (its exit code 0, unless said)."""
    def ok(p: subprocess.CompletedProcess[str]) -> bool:
        return p.returncode == 0

    def first(p: subprocess.CompletedProcess[str]) -> str:
        return p.stdout.strip().splitlines()[0] if p.stdout.strip() else ""

    return {
        "models fetch": lambda p: ok(p) and first(p).startswith("all-minilm-l6-v2: "),
        "index": lambda p: ok(p) and first(p) == "added: 18",
        "refresh": lambda p: ok(p) and "added: 0" in p.stdout and "removed: 0" in p.stdout,
        "search": lambda p: ok(p) and first(p).startswith("1. ") and "https://www.tuya.com.co/" in p.stdout,
        "status": lambda p: ok(p) and first(p) == "profile: offline" and "pages: 18" in p.stdout,
        "ask": lambda p: ok(p) and bool(first(p)) and "Traceback" not in p.stdout + p.stderr,
        "chat": lambda p: ok(p) and first(p).startswith("TuyaBot: pregúntame"),
        "serve": lambda p: p.returncode == 1 and "TELEGRAM_BOT_TOKEN" in p.stderr,  # no token here: says what to set
        "eval": lambda p: ok(p) and first(p).startswith("132 records written to records.jsonl")
        and "answer_accuracy" in p.stdout and "tune" in p.stdout and "test" in p.stdout,
        "demo": lambda p: ok(p) and "The web chat is at http://127.0.0.1:" in p.stdout,  # run by _serve_until_asked
        "score.py": lambda p: ok(p) and "answer_accuracy" in p.stdout and "context_hit@5" in p.stdout,
    }


def _serve_until_asked(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A command that serves the web chat until Ctrl-C: run until the page answers a question over its API,
    then interrupted as a user would (SIGINT)."""
    import signal

    import httpx

    from tests.telegram_emulator import free_port
    from tests.waiting import wait_until

    port = free_port()
    process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=cwd, env={**env, "WEB_PORT": str(port)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as browser:
            def page() -> bool:
                try:
                    return browser.get("/").status_code == 200
                except httpx.TransportError:
                    return process.poll() is not None  # (it ended: the checks below say why)
            wait_until(page, 600, "the web chat")
            if process.poll() is None:
                said = browser.post("/api/ask", json={"text": "¿Cómo puedo pagar mi Credicompras?"}).text
                assert "event: done" in said and ANSWER in said, said
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def test_every_using_it_command_runs_as_written(checkout: Path, models_dir: Path, shared_site: str) -> None:
    model = ChatServer([ANSWER])
    env = {**os.environ, "TUYABOT_PROFILE": "offline", "TUYABOT_MODELS_DIR": str(models_dir),
           "EMBEDDING_MODEL": "all-minilm-l6-v2", "CRAWL_BASE_URL": shared_site, "CRAWL_DELAY_SECONDS": "0",
           "ADMIN_HTTP_PORT": "0", **scripted_env(model)}
    for name in ("TUYABOT_DATA_DIR", "TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN"):
        env.pop(name, None)
    checks = _checks()
    try:
        commands = readme_commands("Using it")
        ran = []
        for command in commands:
            words = shlex.split(command)
            name = "score.py" if words[0] == "python3" else " ".join(words[1:3]) if words[1] == "models" \
                else words[1]
            assert name in checks, f"a README command no test checks: {command}"
            done = _serve_until_asked(command, checkout, env) if name == "demo" else \
                run(command, checkout, env, stdin="/salir\n" if name == "chat" else "")
            assert checks[name](done), f"{command}\n--- out\n{done.stdout[-2000:]}\n--- err\n{done.stderr[-2000:]}"
            ran.append(name)
    finally:
        model.close()
    assert set(ran) == set(checks)  # every check is of a command the README still shows
