"""Cursors for `_links.next.href`.

Constant Contact's cursors are base64 of a query string (the contract's GET
/contact_tags description shows one decoding to "limit=1&next=<id>"). Ours carry the
position after which the next page starts, plus the filters of the first request, so
following the link needs nothing else.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qs, urlencode

from .errors import ApiError


def encode_cursor(
    query: Mapping[str, str], after_seq: int, limit: int, keep: Iterable[str] = ()
) -> str:
    """A cursor resuming after sequence number `after_seq`, remembering the `keep` filters."""
    wanted = set(keep)
    fields = {
        "limit": str(limit),
        "next": str(after_seq),
        **{k: v for k, v in query.items() if k in wanted},
    }
    return base64.urlsafe_b64encode(urlencode(fields).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, str]:
    """The fields of a cursor (always `next` and `limit`); a 400 when it is not ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        fields = {
            k: v[0]
            for k, v in parse_qs(
                base64.urlsafe_b64decode(padded).decode(), strict_parsing=True
            ).items()
        }
        int(fields["next"])
        return fields
    except (ValueError, KeyError, UnicodeDecodeError):
        raise ApiError.validation(["cursor is not valid"]) from None
