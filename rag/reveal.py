"""What of a streamed draft a customer may see: whole sentences, once the grounding checks have passed them.

The checks that decide the answer (a figure in no retrieved page, too few of its terms in the pages, the "not
found" marker) run on the draft as it grows; a sentence is shown only when the draft up to its end passes them
all. Text that a check would withdraw is therefore never shown, and what was shown is always kept: when a
later sentence fails, the answer is the part that passed (``ChatService``).
"""

from __future__ import annotations

import re

from rag.draft import says_not_found
from rag.support import invented_numbers, unsupported_reason

SENTENCE_END = re.compile(r"[.!?…:;](?=\s)|\n")
WORD = re.compile(r"[^\W\d_]{2,}")  # a list marker ("1.") or a bare figure is not a sentence to show alone


class CheckedReveal:
    """Feeds on the draft's pieces and hands out the newly passed text (``add``); ``shown`` is all of it."""

    def __init__(self, context: str, question: str, *, min_context_share: float,
                 echo_min_context_share: float = 0.0, yes_or_no: bool = False) -> None:
        self.context = context
        self.question = question
        self.min_context_share = min_context_share
        self.echo_min_context_share = echo_min_context_share
        self.yes_or_no = yes_or_no
        self.fired: set[str] = set()  # the checks that held a sentence back, at least for a while
        self.draft = ""
        self.shown = ""
        self.stopped = False  # a figure in no page: every longer draft holds it too, so nothing more is shown

    def add(self, piece: str) -> str:
        """Take the next piece of the draft; return the text that may now be shown beyond ``shown`` ("" if none)."""
        self.draft += piece
        if self.stopped:
            return ""
        ends = [m.end() for m in SENTENCE_END.finditer(self.draft)]
        if not ends or ends[-1] <= len(self.shown):
            return ""
        candidate = self.draft[: ends[-1]]
        if not WORD.search(candidate, len(self.shown)):
            return ""
        if says_not_found(candidate) or invented_numbers(candidate, self.context):
            self.stopped = True
            return ""
        reason = unsupported_reason(candidate.strip(), self.context, self.question,
                                    min_context_share=self.min_context_share,
                                    echo_min_context_share=self.echo_min_context_share, yes_or_no=self.yes_or_no)
        if reason:
            self.fired.add(reason.check)
            return ""  # too few of its terms in the pages, or only the question's, so far: a longer draft may pass
        newly, self.shown = candidate[len(self.shown):], candidate
        return newly
