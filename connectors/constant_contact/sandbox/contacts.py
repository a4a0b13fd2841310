"""Writing contacts: create, replace (PUT), delete, and the sign-up-form upsert."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from .clock import Clock, iso, iso_date
from .contact_model import (
    SCALARS,
    SOURCES,
    address_resource,
    is_email,
    new_contact,
    phone_resource,
    sms_resource,
)
from .errors import ApiError
from .store import Store, email_of


class ContactService:
    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.store = store

    # -- checks shared by create and update ------------------------------------------

    def _check_references(self, body: Mapping[str, Any], problems: list[str]) -> None:
        for list_id in body.get("list_memberships") or []:
            if list_id not in self.store.lists or self.store.lists[list_id].get("_deleted"):
                problems.append(f"list_memberships: list {list_id} does not exist")
        for tag_id in body.get("taggings") or []:
            if tag_id not in self.store.tags:
                problems.append(f"taggings: tag {tag_id} does not exist")
        for field_value in body.get("custom_fields") or []:
            field_id = field_value.get("custom_field_id")
            if field_id not in self.store.custom_fields:
                problems.append(f"custom_fields: custom field {field_id} does not exist")
        month, day = body.get("birthday_month"), body.get("birthday_day")
        if (month is None) != (day is None):
            problems.append("birthday_month and birthday_day must be given together")
        elif month is not None and not (1 <= month <= 12 and 1 <= day <= 31):
            problems.append("birthday_month must be 1-12 and birthday_day 1-31")

    def _check_email(self, body: Mapping[str, Any], problems: list[str]) -> str | None:
        email = body.get("email_address")
        if not isinstance(email, dict):
            return None
        address = email.get("address")
        if not is_email(address):
            problems.append(f"email_address.address: {address!r} is not a valid email address")
            return None
        return address

    def _conflict_if_taken(self, address: str | None, own_id: str | None) -> None:
        if not address:
            return
        other = self.store.contact_by_email(address)
        # A deleted contact still owns its address: the contract asks for a unique
        # email_address and documents only PUT (update_source Account) and sign_up_form
        # as ways back, so a create with it is a conflict, as for a live contact.
        if other is not None and other["contact_id"] != own_id:
            raise ApiError.of(
                409,
                f"Email already exists for contact {other['contact_id']}",
                "contacts.api.conflict",
            )

    # -- POST /contacts ------------------------------------------------------------

    def create(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        problems: list[str] = []
        if body.get("create_source") not in SOURCES:
            problems.append("create_source is required and must be Contact or Account")
        if not any(
            body.get(k) for k in ("first_name", "last_name", "email_address", "sms_channel")
        ):
            problems.append(
                "one of first_name, last_name, email_address or sms_channel is required"
            )
        address = self._check_email(body, problems)
        self._check_references(body, problems)
        if problems:
            raise ApiError.validation(problems)
        self._conflict_if_taken(address, None)
        now = self.clock.time()
        contact = new_contact(now, create_source=body["create_source"])
        self._apply_full(contact, body, now, source=body["create_source"])
        self.store.add_contact(contact)
        return 201, contact

    # -- PUT /contacts/{id} --------------------------------------------------------

    def replace(self, contact_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        contact = self.get(contact_id, allow_deleted=True)
        problems: list[str] = []
        if body.get("update_source") not in SOURCES:
            problems.append("update_source is required and must be Contact or Account")
        address = self._check_email(body, problems)
        if "email_address" not in body and not (
            body.get("sms_channel") or contact.get("sms_channel")
        ):
            problems.append("email_address is required unless the contact has an sms_channel")
        self._check_references(body, problems)
        if problems:
            raise ApiError.validation(problems)
        if contact["_deleted"] and body["update_source"] != "Account":
            # "To restore a deleted contact you must specify the update_source as Account."
            raise ApiError.of(
                404,
                f"Contact {contact_id} is deleted; to restore it, send update_source Account.",
                "contacts.api.not.found",
            )
        self._conflict_if_taken(address, contact_id)
        now = self.clock.time()
        if contact["_deleted"]:  # PUT with update_source Account revives it, as V3 documents
            self.revive(contact, now)
        old_address = email_of(contact)
        for key in SCALARS:  # PUT overwrites every property it omits with null...
            contact[key] = body.get(key)
        if "email_address" not in body:
            contact["email_address"] = None
        self._apply_full(contact, body, now, source=body["update_source"], creating=False)
        contact["update_source"] = body["update_source"]
        self.store.reindex_email(contact, old_address)
        return contact

    # -- DELETE /contacts/{id} -----------------------------------------------------

    def delete(self, contact_id: str) -> None:
        contact = self.get(contact_id)
        self.mark_deleted(contact, self.clock.time())

    def mark_deleted(self, contact: dict[str, Any], now: float) -> None:
        if contact["_deleted"]:
            return
        contact["_deleted"] = True
        contact["deleted_at"] = iso_date(now)
        contact["updated_at"] = iso(now)
        contact["_updated"] = now
        email = contact.get("email_address")
        if email:
            # "For deleted contacts (email_address contains opt_out_source and opt_out_date)":
            # the account opted the address out; the permission it had is kept for a revival.
            contact["_permission_before_delete"] = email.get("permission_to_send")
            email.update(
                permission_to_send="unsubscribed",
                opt_out_source="Account",
                opt_out_date=iso(now),
                updated_at=iso(now),
            )

    def revive(self, contact: dict[str, Any], now: float) -> None:
        """Back from deletion: the opt-out the deletion made is undone."""
        contact["_deleted"] = False
        contact["deleted_at"] = None
        contact["updated_at"] = iso(now)
        contact["_updated"] = now
        email = contact.get("email_address")
        before = contact.pop("_permission_before_delete", None)
        if email and before is not None:
            email.update(permission_to_send=before, opt_out_source=None, opt_out_date=None)

    def get(self, contact_id: str, allow_deleted: bool = True) -> dict[str, Any]:
        contact = self.store.contacts.get(contact_id)
        if contact is None or (contact["_deleted"] and not allow_deleted):
            raise ApiError.of(404, f"Contact {contact_id} not found.", "contacts.api.not.found")
        return contact

    # -- POST /contacts/sign_up_form -----------------------------------------------

    def sign_up(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        problems: list[str] = []
        address = body.get("email_address")
        if address is None and not body.get("sms_channel"):
            problems.append("email_address or sms_channel is required")
        if address is not None and not is_email(address):
            problems.append(f"email_address: {address!r} is not a valid email address")
        self._check_references(body, problems)
        if problems:
            raise ApiError.validation(problems)
        now = self.clock.time()
        contact = self.store.contact_by_email(address) if address else None
        created = contact is None
        if created:
            contact = new_contact(now, create_source="Contact")
            contact["email_address"] = (
                {"address": address, "permission_to_send": "explicit", "opt_in_source": "Contact"}
                if address
                else None
            )
        elif contact["_deleted"]:
            self.revive(contact, now)
        for key in SCALARS:  # a partial update: only what was sent
            if key in body:
                contact[key] = body[key]
        if body.get("phone_number"):
            contact["phone_numbers"] = [
                *contact["phone_numbers"][:2],
                phone_resource(body["phone_number"], "home", now, "Contact"),
            ]
        if body.get("street_address"):
            contact["street_addresses"] = [
                *contact["street_addresses"][:2],
                address_resource(body["street_address"], now),
            ]
        for list_id in body.get("list_memberships") or []:
            if list_id not in contact["list_memberships"]:
                contact["list_memberships"].append(list_id)
        merged = {f["custom_field_id"]: f for f in contact["custom_fields"]}
        for item in body.get("custom_fields") or []:
            merged[item["custom_field_id"]] = {
                "custom_field_id": item["custom_field_id"],
                "value": item.get("value"),
            }
        contact["custom_fields"] = list(merged.values())
        if body.get("sms_channel"):
            contact["sms_channel"] = sms_resource(body["sms_channel"], "Contact")
        email = contact.get("email_address")
        if email:  # the form is the contact's own action: explicit permission
            email.update(
                permission_to_send="explicit",
                updated_at=iso(now),
                opt_out_date=None,
                opt_out_source=None,
                opt_out_reason=None,
            )
            contact["_optout"] = None
        contact["update_source"] = "Contact"
        contact["updated_at"], contact["_updated"] = iso(now), now
        if created:
            self.store.add_contact(contact)
        return (201 if created else 200), {
            "contact_id": contact["contact_id"],
            "action": "created" if created else "updated",
        }

    # -- shared -------------------------------------------------------------------

    def _apply_full(
        self,
        contact: dict[str, Any],
        body: Mapping[str, Any],
        now: float,
        source: str,
        creating: bool = True,
    ) -> None:
        for key in SCALARS:
            if key in body:
                contact[key] = body[key]
        email = body.get("email_address")
        if isinstance(email, dict):
            previous = contact.get("email_address") or {}
            permission = (
                email.get("permission_to_send") or previous.get("permission_to_send") or "implicit"
            )
            shaped = {
                "address": email["address"],
                "permission_to_send": permission,
                "created_at": previous.get("created_at") or iso(now),
                "updated_at": iso(now),
                "opt_in_source": previous.get("opt_in_source") or source,
                "opt_in_date": previous.get("opt_in_date") or iso(now),
                "confirm_status": previous.get("confirm_status") or "off",
            }
            if permission == "unsubscribed":
                shaped.update(
                    opt_out_source=source,
                    opt_out_date=previous.get("opt_out_date") or iso(now),
                    opt_out_reason=email.get("opt_out_reason"),
                )
                contact["_optout"] = contact.get("_optout") or now
            else:
                contact["_optout"] = None
            contact["email_address"] = shaped
        if "custom_fields" in body:
            contact["custom_fields"] = [
                {"custom_field_id": f["custom_field_id"], "value": f.get("value")}
                for f in body["custom_fields"]
            ]
        if "phone_numbers" in body:
            contact["phone_numbers"] = [
                phone_resource(p.get("phone_number"), p.get("kind"), now, source)
                for p in body["phone_numbers"]
            ]
        if "street_addresses" in body:
            contact["street_addresses"] = [
                address_resource(a, now) for a in body["street_addresses"]
            ]
        if "list_memberships" in body:
            contact["list_memberships"] = list(dict.fromkeys(body["list_memberships"]))
        if "taggings" in body:
            contact["taggings"] = list(dict.fromkeys(body["taggings"]))
        if "notes" in body:
            contact["notes"] = [
                {
                    "note_id": n.get("note_id") or str(uuid.uuid4()),
                    "created_at": n.get("created_at") or iso(now),
                    "content": n.get("content"),
                }
                for n in body["notes"]
            ]
        if body.get("sms_channel"):
            contact["sms_channel"] = sms_resource(body["sms_channel"], source)
        contact["updated_at"], contact["_updated"] = iso(now), now
        if not creating:
            contact["update_source"] = source
