"""HTML -> the page's real content: title, sections of text blocks, lists and tables, outgoing links.

What a reader would call the page's content is kept: `<main>` (or the body when there is none)
and complementary asides, with the path of headings above each block, lists (one item a line), tables (each row
with its headers), description lists (label/value pairs) and `<details>` (a question with its answer), each
typed. Navigation, headers, footers, search forms, breadcrumbs, skip links, scripts and feedback widgets are
dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from scraper.page import Block, Faq, Fields, ItemList, Page, Section, Table

DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "nav", "header",
             "footer", "form", "button", "input", "select", "textarea", "label", "link", "meta")
DROP_ROLES = ("navigation", "banner", "contentinfo", "search", "menu", "menubar", "dialog")
DROP_CLASSES = re.compile(r"\b(breadcrumbs?|skip-link|visually-hidden|sr-only|element-invisible|cookie\w*|"
                          r"feedback|social|share|pager|menu)\b", re.I)
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
TEXT_BLOCKS = ("p", "dt", "dd", "blockquote", "pre", "address", "figcaption", "caption", "summary")
# What a page extracted by another version would differ by; raise it with every change to what ``extract`` gives
# for the same HTML: a refresh fetches again, in full, every page an older version extracted (the server's
# "not modified" would keep the old reading of it).
VERSION = 2
HOLDS_BLOCKS = ("p", "div", "table", "ul", "ol", *HEADINGS)  # an element holding one of these is walked into
# Widget lines that stand inside content in real pages: feedback prompts, form fallbacks.
WIDGET_LINES = re.compile(
    r"^(¿?\s*te (sirvió|sirvio|fue útil|fue util) (esta|la) información\??|también te puede interesar|"
    r"¿?\s*(fue|es) útil (esta|la) información\??|califica (esta|nuestra) (página|información)|"
    r"you must have javascript enabled.*|(please )?enable javascript.*|debes (tener|habilitar) javascript.*)\s*$",
    re.I,
)
TITLE_SUFFIX = re.compile(r"\s*[|\-–]\s*Tuya\s*$", re.I)


@dataclass(frozen=True)
class Extracted:
    """What one HTML document yields: the page (None when it must not be indexed) and its links."""

    page: Page | None
    canonical: str | None
    links: tuple[str, ...]
    follow_links: bool


def extract(html: str | bytes, url: str, encoding: str | None = None) -> Extracted:
    """Parse one HTML document fetched from ``url`` (bytes in ``encoding`` when the server declared one, which
    wins over the document's own guess). Links are returned as written (unresolved)."""
    soup = BeautifulSoup(html, "lxml", from_encoding=encoding if isinstance(html, bytes) else None)
    robots = _meta_robots(soup)
    follow = "nofollow" not in robots and "none" not in robots
    links = tuple(
        a["href"].strip()
        for a in soup.find_all("a", href=True)
        if "nofollow" not in (a.get("rel") or [])
    ) if follow else ()
    canonical_tag = soup.find("link", rel="canonical", href=True)
    canonical = canonical_tag["href"].strip() if canonical_tag else None
    if "noindex" in robots or "none" in robots:
        return Extracted(None, canonical, links, follow)

    title = _title(soup)
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    roots = _content_roots(soup)
    for root in roots:
        _drop_boilerplate(root)
    builder = _SectionBuilder(title)
    for root in roots:
        builder.walk(root)
    page = Page(url=canonical or url, title=title, sections=builder.finish(), extracted_by=VERSION)
    return Extracted(page, canonical, links, follow)


def _meta_robots(soup: BeautifulSoup) -> set[str]:
    tags = soup.find_all("meta", attrs={"name": re.compile(r"^(robots|tuyabot)$", re.I)})
    return {part.strip().lower() for t in tags for part in (t.get("content") or "").split(",")}


def _title(soup: BeautifulSoup) -> str:
    h1 = soup.find("h1")
    if h1 and clean_text(h1.get_text(" ")):
        return clean_text(h1.get_text(" "))
    if soup.title and soup.title.string:
        return TITLE_SUFFIX.sub("", clean_text(soup.title.string))
    return ""


def _content_roots(soup: BeautifulSoup) -> list[Tag]:
    """`<main>` plus complementary asides outside it; the body when the page has no main."""
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is None:
        return [soup.body or soup]
    asides = [
        a for a in soup.find_all(["aside", True], attrs={"role": "complementary"})
        if main not in a.parents and a not in main.parents
    ]
    asides += [a for a in soup.find_all("aside") if a not in asides and main not in a.parents]
    return [main, *asides]


def _drop_boilerplate(root: Tag) -> None:
    doomed = []
    for el in root.find_all(True):
        role = (el.get("role") or "").lower()
        classes = " ".join(el.get("class") or [])
        if (
            el.name in DROP_TAGS
            or role in DROP_ROLES
            or (classes and DROP_CLASSES.search(classes))
            or el.get("hidden") is not None
            or (el.get("aria-hidden") or "").lower() == "true"
            or "breadcrumb" in (el.get("aria-label") or "").lower()
        ):
            doomed.append(el)
    for el in doomed:
        if not el.decomposed:
            el.decompose()


def clean_text(text: str) -> str:
    """Collapse white space (non-breaking spaces included) and trim."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def _clean_lines(text: str) -> str:
    """Clean each line, dropping empty lines and widget lines."""
    lines = (clean_text(line) for line in text.split("\n"))
    return "\n".join(line for line in lines if line and not WIDGET_LINES.match(line))


class _SectionBuilder:
    """Walks content in document order; headings open sections, blocks fill them."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.sections: list[Section] = []
        self.heading = ""
        self.path: list[tuple[int, str]] = []  # the open headings above, (level, text), top first
        self.blocks: list[Block] = []
        self.inline: list[str] = []

    def walk(self, node: Tag, skip: Tag | None = None) -> None:
        """Read ``node``'s children in order (all but ``skip``)."""
        for child in node.children:
            if child is skip:
                continue
            if isinstance(child, NavigableString):
                self.inline.append(_source_text(child))
            elif isinstance(child, Tag):
                self._visit(child)
        self._flush_inline()

    def _visit(self, el: Tag) -> None:
        if el.name == "br":
            self.inline.append("\n")
        elif el.name in HEADINGS:
            self._flush_inline()
            text = clean_text(el.get_text(" "))
            if text and not (el.name == "h1" and text == self.title):
                level = int(el.name[1])
                self.path = [(lv, t) for lv, t in self.path if lv < level] + [(level, text)]
                self._open_section(" › ".join(t for _, t in self.path))
        elif el.name == "dl" and (pairs := _pairs(el)) is not None:
            self._flush_inline()
            if pairs:
                self.blocks.append(Fields(pairs))
        elif el.name == "details" and (faq := _faq(el)) is not None:
            self._flush_inline()
            self.blocks.append(faq)
        elif el.name == "table":
            self._flush_inline()
            table = _table(el)
            if table:
                self.blocks.append(table)
        elif el.name in ("ul", "ol") and (items := _list_items(el)) is not None:
            self._flush_inline()
            if items:
                self.blocks.append(ItemList(items))
        elif el.name in TEXT_BLOCKS or (el.name == "li" and not el.find(["ul", "ol", "table", "p", "div"])):
            self._flush_inline()
            self._add_text(_text_with_breaks(el))
        elif _is_inline(el):
            self.inline.append(_text_with_breaks(el))
        else:
            self._flush_inline()
            self.walk(el)

    def _open_section(self, heading: str) -> None:
        if self.blocks:
            self.sections.append(Section(self.heading, tuple(self.blocks)))
        elif self.heading and heading != self.heading and not heading.startswith(f"{self.heading} › "):
            # a heading with no content of its own joins the next, unless the next is under it already
            heading = f"{self.heading} › {heading}"
        self.heading, self.blocks = heading, []

    def _flush_inline(self) -> None:
        if self.inline:
            self._add_text("".join(self.inline))
            self.inline = []

    def _add_text(self, text: str) -> None:
        text = _clean_lines(text)
        if text:
            self.blocks.append(text)

    def finish(self) -> tuple[Section, ...]:
        self._flush_inline()
        if self.blocks:
            self.sections.append(Section(self.heading, tuple(self.blocks)))
        self.heading, self.blocks = "", []
        return tuple(self.sections)


INLINE_TAGS = frozenset(("a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd",
                         "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u",
                         "var", "wbr", "font"))


def _is_inline(el: Tag) -> bool:
    return el.name in INLINE_TAGS and not el.find(HOLDS_BLOCKS)


def _source_text(node: NavigableString, preformatted: bool = False) -> str:
    """A text node as a browser lays it out: a line break in the HTML source is a space (only ``<br>`` breaks
    a line), except in ``<pre>``."""
    return str(node) if preformatted else str(node).replace("\r", " ").replace("\n", " ")


def _text_with_breaks(el: Tag) -> str:
    """Text of an element where `<br>` becomes a line break and other tags a space."""
    parts: list[str] = []
    for node in el.descendants:
        if isinstance(node, NavigableString) and not isinstance(node, Comment):
            parts.append(_source_text(node, preformatted=el.name == "pre"))
        elif isinstance(node, Tag) and node.name == "br":
            parts.append("\n")
    return "".join(parts)


def _list_items(el: Tag) -> tuple[str, ...] | None:
    """The items of a flat list, one line each; None for a list that holds other blocks (nested lists, tables,
    paragraphs), which is walked block by block instead."""
    lis = el.find_all("li", recursive=False)
    if not lis or any(li.find(HOLDS_BLOCKS) for li in lis):
        return None
    return tuple(item for li in lis if (item := clean_text(li.get_text(" "))) and not WIDGET_LINES.match(item))


def _pairs(el: Tag) -> tuple[tuple[str, str], ...] | None:
    """The label/value pairs of a description list (terms written together share the value after them, joined
    with " / "); None for one whose values hold lists or tables, which is walked block by block instead."""
    terms = [t for t in el.find_all(["dt", "dd"]) if t.find_parent("dl") is el]
    if any(t.find(["ul", "ol", "table", "dl"]) for t in terms):
        return None
    pairs: list[tuple[str, str]] = []
    labels: list[str] = []
    after_value = False
    for term in terms:
        text = clean_text(term.get_text(" "))
        if term.name == "dt":
            labels = [text] if after_value else [*labels, text]
            after_value = False
        elif text:
            pairs.append((" / ".join(label for label in labels if label), text))
            after_value = True
    return tuple(pairs)


def _faq(el: Tag) -> Faq | None:
    """A ``<details>`` as its ``<summary>`` (the question) and the rest (the answer, one block a line); None
    for one without a summary or whose answer holds lists or tables, which is walked block by block instead."""
    summary = el.find("summary")
    question = clean_text(summary.get_text(" ")) if summary else ""
    if not question or el.find(["ul", "ol", "table", "dl", "details"]):
        return None
    answer = _SectionBuilder("")
    answer.walk(el, skip=summary)  # inline text joined, one block a line, as on the page
    return Faq(question, "\n".join(str(b) for section in answer.finish() for b in section.blocks))


def _table(el: Tag) -> Table | None:
    """Table with its column headers (from `<thead>`/`<th>`, else the first row)."""
    rows = []
    for tr in el.find_all("tr"):
        if tr.find_parent("table") is not el:
            continue
        cells = [clean_text(c.get_text(" ")) for c in tr.find_all(["th", "td"], recursive=False)]
        if any(cells):
            rows.append((tr, cells))
    if not rows:
        return None
    first_tr, first_cells = rows[0]
    has_header = first_tr.find_parent("thead") is not None or all(
        c.name == "th" for c in first_tr.find_all(["th", "td"], recursive=False)
    )
    headers = tuple(first_cells) if has_header else ()
    body = [tuple(cells) for _, cells in (rows[1:] if has_header else rows)]
    return Table(headers=headers, rows=tuple(body))
