"""A faithful local sandbox of the Constant Contact V3 API (stdlib HTTP + the official contract).

Python::

    from connectors.constant_contact.sandbox import Sandbox

    with Sandbox(seed=300, rate_limit=4.0) as sandbox:      # port=0: a free port
        sandbox.register_app("client", "secret")             # any loopback redirect URI
        tokens = sandbox.issue_tokens("client")              # or the real OAuth2 code flow
        sandbox.api_base_url, sandbox.authorize_url, sandbox.token_url
        sandbox.inject(503, count=2, path_prefix="/contacts")
        sandbox.inject(504, when="after")   # done, then the answer lost (default: "before")
        sandbox.inject(0, drop=True)        # no answer: the connection is closed
        sandbox.configure(error_rate=0.2, error_after_share=0.5)  # random 500/503s, half after
        sandbox.requests                                     # the request log (with .fault)

CLI (serves until SIGINT/SIGTERM, loopback only unless --host says otherwise)::

    python -m connectors.constant_contact.sandbox --port 8765 --seed 300 --rate-limit 4 \\
        --app CLIENT_ID:CLIENT_SECRET

HTTP controls for other processes: see `control` (POST /_sandbox/apps, tokens, configure,
faults, seed, reset; GET /_sandbox/requests, stats, contacts, and rate: per API key, the
calls, the most in any sliding second and the 429s answered). Knobs: see `Knobs`
(``sliding_window=True`` throttles strictly: at most ``rate_limit`` calls in any second).

What it serves (everything else in the contract answers 501):
OAuth2 /oauth2/default/v1/authorize and /token; GET /v3/account/summary;
GET/POST /v3/contacts, GET/PUT/DELETE /v3/contacts/{id}, POST /v3/contacts/sign_up_form;
GET/POST /v3/contact_lists, GET/PUT/DELETE /v3/contact_lists/{id};
GET/POST /v3/contact_custom_fields, PUT/DELETE /v3/contact_custom_fields/{id};
GET/POST /v3/contact_tags, PUT/DELETE /v3/contact_tags/{id}; GET /v3/segments;
POST /v3/activities/contacts_json_import, contact_delete, add_list_memberships,
remove_list_memberships, contacts_taggings_add, contacts_taggings_remove, list_delete,
contacts_tags_delete, custom_fields_delete; GET /v3/activities and /v3/activities/{id}.
Every API request is validated against the contract first
(`connectors.constant_contact.contract.validate_request`, with the rules the contract states
only in prose: `connectors.constant_contact.contract_prose`).

Where the contract is silent, it behaves as Constant Contact documents: a deleted contact's
email_address carries opt_out_source/opt_out_date and keeps its address (a POST with it is a
409; only a PUT with update_source "Account" restores it); create and update answers echo
the sub-resources they stored; a cursor stands alone; date-times need the full RFC 3339
form; a 429 carries Retry-After; a 401 body is one {error_key, error_message} object.
"""

from .knobs import Knobs
from .server import Sandbox

__all__ = ["Knobs", "Sandbox"]
