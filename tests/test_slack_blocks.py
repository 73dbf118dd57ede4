"""Block Kit rendering, property-based: any text becomes escaped sections and messages within Slack's limits."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.slack.blocks import MAX_BLOCKS, MESSAGE_TEXT_LIMIT, SECTION_LIMIT, answer_messages, escape, link
from bot.split import normalise

texty = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40000)
words = st.lists(st.sampled_from(["<!channel>", "<@U123>", "<https://x.y|clic>", "&", "tasa", "28,1%.", "\n\n",
                                  " ", "ñ", "*negrita*"]), max_size=9000).map("".join)


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@settings(max_examples=80, deadline=None)
@given(st.one_of(texty, words))
@example("<!channel> " * 9000)
def test_any_text_becomes_escaped_messages_within_block_kit_limits(text: str) -> None:
    messages = answer_messages(text, [("https://www.ejemplo.com.co/a?x=1&y=2", "A <b>")], "Fuentes:", "7|C1:1.2")
    sections = []
    for message in messages:
        blocks = message["blocks"]
        assert len(blocks) <= MAX_BLOCKS
        texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
        assert all(len(t) <= SECTION_LIMIT for t in texts) and sum(map(len, texts)) <= MESSAGE_TEXT_LIMIT
        assert all("<" not in t and ">" not in t for t in [*texts, message["text"]])
        sections += texts
    assert unescape("".join(sections)) == normalise(text)
    tail = messages[-1]["blocks"]
    assert [b["type"] for b in tail[-2:]] == ["context", "actions"]
    assert not any(b["type"] in ("context", "actions") for m in messages[:-1] for b in m["blocks"])


def test_links_cannot_be_forged() -> None:
    assert escape("<!here> & <@U1>") == "&lt;!here&gt; &amp; &lt;@U1&gt;"
    assert link("https://a.co/x?p=1&q=|2", "T <i>") == "<https://a.co/x?p=1&amp;q=%7C2|T &lt;i&gt;>"


def test_the_app_manifest_asks_for_what_the_app_handles() -> None:
    from pathlib import Path

    import yaml

    from bot.slack.app import REFRESH_COMMAND

    manifest = yaml.safe_load((Path(__file__).parent.parent / "docs" / "slack-app-manifest.yaml").read_text())
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [REFRESH_COMMAND]
    assert {"app_mention", "message.im", "message.channels"} <= set(manifest["settings"]["event_subscriptions"]
                                                                     ["bot_events"])
    assert {"app_mentions:read", "chat:write", "reactions:write", "im:history", "commands"} <= set(
        manifest["oauth_config"]["scopes"]["bot"])
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
