"""SQL tables: the page registry and the embedding cache."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class PageRecord(Base):
    """One indexed page, under its canonical URL, with what the next refresh needs to compare."""

    __tablename__ = "pages"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    fetch_url: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(32), default="indexed")
    etag: Mapped[str | None] = mapped_column(String(512), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(128), nullable=True)
    links_json: Mapped[str] = mapped_column(Text, default="[]")
    page_json: Mapped[str] = mapped_column(Text)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)


class EmbeddingRecord(Base):
    """A cached dense vector, keyed by embedder and chunk-content hash."""

    __tablename__ = "embeddings"

    model: Mapped[str] = mapped_column(String(256), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
