"""Our signing key and identity in the exchange, from the settings.

`DCI_PRIVATE_KEY_PATH` holds the Ed25519 key (made on first use, mode 0600);
`DCI_SENDER_ID` is the name partners registered us under; `DCI_MAX_CLOCK_SKEW_SECONDS`
is how far a message's time may be from ours (and how long our signatures last).
"""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings

from jiuzhu.dci import envelope
from jiuzhu.dci.envelope import SigningKey

_lock = threading.Lock()
_cache: dict[tuple[str, str], SigningKey] = {}


def signing_key() -> SigningKey:
    path = Path(settings.DCI_PRIVATE_KEY_PATH)
    sender_id = str(settings.DCI_SENDER_ID)
    with _lock:
        key = _cache.get((str(path), sender_id))
        if key is None:
            key = SigningKey(sender_id, envelope.load_or_create_private_key(path))
            _cache[(str(path), sender_id)] = key
        return key


def sender_id() -> str:
    return str(settings.DCI_SENDER_ID)


def skew_seconds() -> int:
    return int(getattr(settings, "DCI_MAX_CLOCK_SKEW_SECONDS", envelope.DEFAULT_SKEW_SECONDS))


def max_page_size() -> int:
    return int(getattr(settings, "DCI_MAX_PAGE_SIZE", 100))


def max_batch() -> int:
    """Search or subscribe items in one message; more is refused (rjct.total_count.limit_exceeded)."""
    return int(getattr(settings, "DCI_MAX_BATCH", 50))
