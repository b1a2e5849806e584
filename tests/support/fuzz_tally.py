"""What a fuzzing run saw: every answer counted by category and reason, the requests that got
an answer they should not have, and the figures a report prints."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import orjson

from tests.support.nasty_requests import Attack
from tests.support.raw_http import NO_ANSWER, Answer

RATE_LIMITED = 429  # an answer any request may get; the sender is simply too fast
KEPT_PER_CATEGORY = 3


def reason(answer: Answer) -> str:
    """`status error-code` from the JSON body; a 200 says whether every message was taken."""
    if answer.status == NO_ANSWER:
        return "no answer"
    try:
        body = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return f"{answer.status} (not JSON)"
    if not isinstance(body, dict):
        return f"{answer.status} (JSON, not an object)"
    if answer.status == 200 and "success" in body:
        return "200 some messages refused" if body.get("errors") else "200 accepted"
    return f"{answer.status} {body.get('error') or body.get('status') or '(no error code)'}"


def shortened(attack: Attack, answer: Answer, limit: int = 300) -> str:
    request = attack.request
    body = request.body[:limit] + (b"..." if len(request.body) > limit else b"")
    headers = {name: value[:80] for name, value in request.headers.items()}
    return f"{request.method} {request.path[:120]} {headers} body({len(request.body)} bytes)={body!r} -> {answer.status} {answer.body[:limit]!r}"


@dataclass
class Tally:
    """Counts kept across the sender's connections, which all answer on one event loop."""

    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    unexpected: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    expected_seen: Counter[str] = field(default_factory=Counter)
    unexpected_count: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    sent_bytes: int = 0

    def seen(self, attack: Attack, answer: Answer) -> None:
        self.sent += 1
        self.sent_bytes += len(attack.request.body)
        self.reasons[(attack.category, reason(answer))] += 1
        if answer.status >= 500:
            self.server_errors.append(shortened(attack, answer))
        elif answer.status in attack.expected:
            self.expected_seen[attack.category] += 1
        elif answer.status != RATE_LIMITED:
            self.unexpected_count[attack.category] += 1
            kept = self.unexpected[attack.category]
            if len(kept) < KEPT_PER_CATEGORY:
                kept.append(shortened(attack, answer))

    def sent_in(self, prefix: str) -> int:
        return sum(count for (category, _), count in self.reasons.items() if category.startswith(prefix))

    def refusals(self) -> list[str]:
        """The distinct refusals seen: status and error code, 4xx and 5xx."""
        return sorted(why for why in self.by_reason() if why[:1] in "45")

    def by_reason(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for (_, why), count in self.reasons.items():
            totals[why] += count
        return totals

    def table(self) -> str:
        """Each distinct answer with how often it came, over all requests, then by category."""
        lines = [f"{count:>9}  {why}" for why, count in sorted(self.by_reason().items(), key=lambda item: -item[1])]
        lines.append("")
        for category in sorted({category for category, _ in self.reasons}):
            answers = ", ".join(f"{why} ×{count}" for (name, why), count in sorted(self.reasons.items()) if name == category)
            lines.append(f"  {category}: {answers}")
        return "\n".join(lines)
