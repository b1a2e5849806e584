"""What is kept of a refused message for an operator to read: why it was refused, and the
message scrubbed of what footfall never keeps.

A refused message is whatever a sender managed to send, so nothing in it is trusted to be
where an SDK would put it: besides the site's personal names (hashed or dropped as in an
event), every key and string anywhere is rewritten, email addresses to their keyed hash
and IP addresses to their anonymised form, the write key and any credentials are taken
out, and the message's own `context.ip` is anonymised as an event's is.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from typing import Any

import orjson

from collector.personal_data import DROP, PersonalData
from collector.privacy import anonymise_ip

WRITE_KEY_MARK = "(write key removed)"
CREDENTIALS_MARK = "(credentials removed)"
# Names whose values are credentials: taken out of a dead letter wherever they are.
CREDENTIAL_NAMES = {"writekey": DROP, "authorization": DROP, "password": DROP}

# An address as it appears in text or a URL (`jane%40example.com`). A match starts only where
# a local part can start and its parts are as long as an address's may be (64 characters
# before the @, 63 a label), so a long run of letters costs the search its length once, not
# its square: unbounded, a comment of 100 KB of letters after an @ held a worker for minutes.
EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}(?:@|%40)[\w-]{1,63}(?:\.[\w-]{1,63})+", re.IGNORECASE)
IPV4 = re.compile(r"(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d])")
# Anything with two colons among hex digits may be an IPv6 address; each is checked.
IPV6_CANDIDATE = re.compile(r"(?:[0-9a-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{1,4})?", re.IGNORECASE)
# `Basic` and a base64 word: credentials when the word decodes to `user:password`.
BASIC_CREDENTIALS = re.compile(r"\bbasic\s+([a-z0-9+/]{4,}={0,2})(?![\w+/=])", re.IGNORECASE)


def _anonymised_ipv4(match: re.Match[str]) -> str:
    return anonymise_ip(match.group()) or match.group()


def _anonymised_ipv6(match: re.Match[str]) -> str:
    candidate = match.group()
    # A trailing colon is punctuation more often than part of the address.
    for address in (candidate, candidate.rstrip(":")):
        try:
            ipaddress.ip_address(address)
        except ValueError:
            continue
        return (anonymise_ip(address) or address) + candidate[len(address):]
    return candidate


def _without_credentials(match: re.Match[str]) -> str:
    try:
        decoded = base64.b64decode(match.group(1), validate=True)
    except binascii.Error:
        return match.group()
    return "Basic " + CREDENTIALS_MARK if b":" in decoded else match.group()


def masker(hashed: Callable[[str], Any], write_key: str) -> Callable[[str], str]:
    """The rewrite every key and string of a dead letter goes through, and every survey
    comment (collector.comments): text in which a sender may have put anything."""

    def masked(text: str) -> str:
        if write_key in text:
            text = text.replace(write_key, WRITE_KEY_MARK)
        if "@" in text or "%40" in text:
            text = EMAIL.sub(lambda match: hashed(match.group().replace("%40", "@")), text)
        if ":" in text:
            text = IPV6_CANDIDATE.sub(_anonymised_ipv6, text)
        if "." in text:
            text = IPV4.sub(_anonymised_ipv4, text)
        return BASIC_CREDENTIALS.sub(_without_credentials, text)

    return masked


def with_anonymised_ip(raw: Any) -> Any:
    """The message with `context.ip` anonymised, or left out when it is no IP address."""
    context = raw.get("context") if isinstance(raw, dict) else None
    if not isinstance(context, dict) or "ip" not in context:
        return raw
    ip = context["ip"]
    anonymised = anonymise_ip(ip) if isinstance(ip, str) else None
    return {**raw, "context": {**context, "ip": anonymised}}


def scrubbed_message(raw: Any, personal: PersonalData, write_key: str, max_depth: int) -> Any:
    """The message as a dead letter keeps it: personal names as in traits, wherever they
    are; credentials out; every other key and string masked; `max_depth` levels at most."""
    names = {**personal.in_traits, **CREDENTIAL_NAMES}
    return personal.scrubbed(with_anonymised_ip(raw), names, masker(personal.hashed, write_key), max_depth)


def dead_letter_text(raw: Any, personal: PersonalData, write_key: str, max_depth: int, limit: int) -> str:
    """The scrubbed message as JSON, cut at `limit` characters: scrubbed first, so that a
    cut never leaves part of an address behind. Nesting is cut at `max_depth`, well within
    what JSON can be written to."""
    return orjson.dumps(scrubbed_message(raw, personal, write_key, max_depth)).decode()[:limit]


def dead_letter_reason(reason: str, personal: PersonalData, write_key: str) -> str:
    """A refusal's reason, which may quote what was sent (a key, a type), masked alike."""
    return masker(personal.hashed, write_key)(reason)
