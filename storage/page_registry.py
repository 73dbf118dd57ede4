"""The page registry: what the last successful index held, page by page."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select

from scraper.page import Page
from storage.db import Database
from storage.models import PageRecord


@dataclass(frozen=True)
class RegisteredPage:
    """A registry row as plain data, with the stored page content."""

    url: str
    fetch_url: str
    content_hash: str
    status: str
    etag: str | None
    last_modified: str | None
    links: tuple[str, ...]
    page: Page
    chunk_count: int


class PageRegistry:
    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self) -> dict[str, RegisteredPage]:
        with self.db.session() as s:
            rows = s.scalars(select(PageRecord)).all()
            return {r.url: _to_plain(r) for r in rows}

    def replace_all(self, pages: Iterable[RegisteredPage]) -> None:
        """Make the registry hold exactly ``pages`` (one transaction)."""
        pages = list(pages)
        with self.db.session() as s:
            s.execute(delete(PageRecord).where(PageRecord.url.not_in([p.url for p in pages])))
            for p in pages:
                s.merge(PageRecord(
                    url=p.url, fetch_url=p.fetch_url, title=p.page.title, content_hash=p.content_hash,
                    fetched_at=p.page.fetched_at, status=p.status, etag=p.etag, last_modified=p.last_modified,
                    links_json=json.dumps(list(p.links)), page_json=p.page.to_json(), chunk_count=p.chunk_count,
                ))


def _to_plain(r: PageRecord) -> RegisteredPage:
    return RegisteredPage(
        url=r.url, fetch_url=r.fetch_url, content_hash=r.content_hash, status=r.status, etag=r.etag,
        last_modified=r.last_modified, links=tuple(json.loads(r.links_json)), page=Page.from_json(r.page_json),
        chunk_count=r.chunk_count,
    )
