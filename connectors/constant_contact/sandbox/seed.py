"""Deterministic sample contacts (no Faker): contact{n}@example.com spread over the lists.

The same n always gives the same contact: id, names, lists, tags, custom fields,
permission and timestamps (created one hour apart from 2025-01-01), so tests can
predict filter results.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from .catalog import SEED_CUSTOM_FIELDS, SEED_LISTS, SEED_TAGS
from .clock import iso
from .contact_model import new_contact
from .store import Store, stable_id

SEED_EPOCH = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
HOUR = 3600.0
DAY = 86400.0
FIRST_NAMES = (
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Radia",
    "Ken",
)
LAST_NAMES = (
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Backus",
    "Perlman",
    "Thompson",
)
COLORS = ("red", "green", "blue", "yellow", "purple")


def seed_created_at(n: int) -> float:
    return SEED_EPOCH + n * HOUR


def permission_for(n: int) -> str:
    """A spread of email permissions: mostly implicit, some explicit, unsubscribed, pending."""
    if n % 10 == 0:
        return "unsubscribed"
    if n % 17 == 0:
        return "pending_confirmation"
    if n % 3 == 0:
        return "explicit"
    return "implicit"


def seed_contact(n: int, list_ids: Sequence[str]) -> dict:
    created = seed_created_at(n)
    updated = created + (n % 5) * DAY
    contact = new_contact(
        created, create_source="Account" if n % 4 else "Contact", contact_id=stable_id("contact", n)
    )
    permission = permission_for(n)
    email = {
        "address": f"contact{n}@example.com",
        "permission_to_send": permission,
        "created_at": iso(created),
        "updated_at": iso(updated),
        "opt_in_source": contact["create_source"],
        "opt_in_date": iso(created),
        "confirm_status": "off",
    }
    optout = None
    if permission == "unsubscribed":
        optout = created + 2 * DAY
        email.update(
            opt_out_source="Contact", opt_out_date=iso(optout), opt_out_reason="Not interested"
        )
    contact.update(
        email_address=email,
        first_name=FIRST_NAMES[n % len(FIRST_NAMES)],
        last_name=LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)],
        job_title="Engineer" if n % 2 else None,
        company_name=f"Company {n % 13}",
        updated_at=iso(updated),
        _updated=updated,
        _optout=optout,
    )
    if n % 6 == 0:
        contact["birthday_month"], contact["birthday_day"] = n % 12 + 1, n % 28 + 1
    contact["list_memberships"] = [list_ids[n % len(list_ids)]]
    if n % 3 == 0 and len(list_ids) > 1:
        contact["list_memberships"].append(list_ids[(n + 1) % len(list_ids)])
    tags = []
    if n % 7 == 0:
        tags.append(stable_id("tag", SEED_TAGS[0]))
    if n % 2 == 0:
        tags.append(stable_id("tag", SEED_TAGS[1]))
    contact["taggings"] = tags
    fields = [
        {
            "custom_field_id": stable_id("custom_field", SEED_CUSTOM_FIELDS[0][0]),
            "value": COLORS[n % len(COLORS)],
        }
    ]
    if n % 4 == 0:
        fields.append(
            {
                "custom_field_id": stable_id("custom_field", SEED_CUSTOM_FIELDS[1][0]),
                "value": datetime.fromtimestamp(created, UTC).date().isoformat(),
            }
        )
    contact["custom_fields"] = fields
    if n % 3 == 0:
        contact["phone_numbers"] = [
            {
                "phone_number_id": stable_id("phone", n),
                "phone_number": f"555-01{n % 100:02d}",
                "kind": "home",
                "created_at": iso(created),
                "updated_at": iso(created),
                "create_source": "Account",
                "update_source": "Account",
            }
        ]
    if n % 5 == 0:
        contact["street_addresses"] = [
            {
                "street_address_id": stable_id("address", n),
                "kind": "home",
                "street": f"{n} Main St",
                "city": "Waltham",
                "state": "MA",
                "postal_code": "02451",
                "country": "United States",
                "created_at": iso(created),
                "updated_at": iso(created),
            }
        ]
    if n % 11 == 0:
        contact["notes"] = [
            {
                "note_id": stable_id("note", n),
                "created_at": iso(created),
                "content": f"Seed note for contact {n}",
            }
        ]
    return contact


def seed_contacts(store: Store, count: int, list_ids: Sequence[str] | None = None) -> list[dict]:
    """Add `count` seed contacts, numbered after any seeded before."""
    if list_ids is None:
        list_ids = [stable_id("list", name) for name in SEED_LISTS]
    if not list_ids:
        raise ValueError("seed contacts need at least one list")
    added = []
    for n in range(store.seeded + 1, store.seeded + count + 1):
        if store.contact_by_email(f"contact{n}@example.com"):
            continue  # someone created it through the API already
        added.append(store.add_contact(seed_contact(n, list_ids)))
    store.seeded += count
    return added
