"""Prometheus metrics of the service (one registry per process, served at /metrics)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from rag.chat import Answer

SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 12, 20, 30, 60, 120)


class Metrics:
    """What the core counts: questions, answers by status, latencies, the generation queue, refreshes,
    feedback, retention deletions."""

    def __init__(self, queue_depth: Callable[[], float] | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.questions = Counter("tuyabot_questions", "Questions received", ["platform"], registry=r)
        self.answers = Counter("tuyabot_answers", "Answers given, by status", ["platform", "status"], registry=r)
        self.retrieval = Histogram("tuyabot_retrieval_seconds", "Retrieval time", buckets=SECONDS, registry=r)
        self.first_token = Histogram("tuyabot_first_token_seconds", "Time to the first answer text",
                                     buckets=SECONDS, registry=r)
        self.total = Histogram("tuyabot_answer_seconds", "Whole answer time", buckets=SECONDS, registry=r)
        self.refreshes = Counter("tuyabot_refreshes", "Index refreshes, by outcome", ["outcome"], registry=r)
        self.feedback = Counter("tuyabot_feedback", "Feedback on answers", ["vote"], registry=r)
        self.retention_deletions = Counter("tuyabot_retention_deletions",
                                           "Conversations deleted for being idle past the retention period",
                                           registry=r)
        self.processed_event_deletions = Counter("tuyabot_processed_event_deletions",
                                                 "Platform event ids forgotten past their retention period",
                                                 registry=r)
        self.history_write_failures = Counter("tuyabot_history_write_failures",
                                              "Answers given but not stored (the database refused the write)",
                                              registry=r)
        self.ignored = Counter("tuyabot_ignored", "Requests ignored by design (forged buttons, channel posts...)",
                               ["platform", "reason"], registry=r)
        self.busy = Counter("tuyabot_busy", "Questions turned away with the busy reply (answers at their bound)",
                            ["platform"], registry=r)
        self.queue_depth = Gauge("tuyabot_generation_queue_depth", "Generations admitted (running or waiting)",
                                 registry=r)
        self.generations = queue_depth or (lambda: 0.0)
        self.queue_depth.set_function(self.generations)

    def answered(self, platform: str, answer: Answer) -> None:
        self.answers.labels(platform, answer.status).inc()
        if answer.message_id is None:
            self.history_write_failures.inc()
        timings = answer.timings
        if "retrieve_ms" in timings:
            self.retrieval.observe(timings["retrieve_ms"] / 1000)
        if "first_token_ms" in timings:
            self.first_token.observe(timings["first_token_ms"] / 1000)
        if "total_ms" in timings:
            self.total.observe(timings["total_ms"] / 1000)

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)
