"""Issue 14: the flows of a partner, a candidate and a recruiter, through a Python client
generated from the served spec with the generator's default settings, over real HTTP.

Each flow runs in its own interpreter, as a developer's program would: the generated package
is imported from where it was generated, never from this test process."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings
from app.main import create_app
from tests.accounts.flows import token_of
from tests.applications.files import pdf
from tests.factories import make_key, make_offer, make_organisation
from tests.live_server import serve
from tests.mail import SmtpServer, link_in, mail_settings
from tests.mail import smtp_server as smtp_server
from tests.python_client import generate

PARTNER = """
import os
from vocation_client import AuthenticatedClient
from vocation_client.api.offers import list_offers
from vocation_client.models import ContractType, ListOffersDepartementItem, OfferPage

client = AuthenticatedClient(base_url=os.environ["BASE_URL"], token=os.environ["KEY"])
filters = {"contract_type": [ContractType.CDD], "departement": [ListOffersDepartementItem("44")]}
titles, cursor, first = [], None, None
while True:
    page = list_offers.sync_detailed(client=client, limit=2, cursor=cursor, **filters)
    assert page.status_code == 200, (page.status_code, page.content)
    assert isinstance(page.parsed, OfferPage)
    first = first or page
    titles += [offer.title for offer in page.parsed.items]
    cursor = page.parsed.next_cursor
    if not cursor:
        break
assert sorted(titles) == sorted(os.environ["EXPECTED"].split("|")), titles

etag = first.headers["ETag"]
again = list_offers.sync_detailed(client=client, limit=2, if_none_match=etag, **filters)
assert again.status_code == 304, (again.status_code, again.content)
"""

SIGN_UP = """
import os
from vocation_client import Client
from vocation_client.api.candidates import create_candidate
from vocation_client.models import CandidateCreate, CheckYourEmail

public = Client(base_url=os.environ["BASE_URL"])
email, password = "camille.durand@example.org", "un mot de passe solide"
asked = create_candidate.sync_detailed(
    client=public, body=CandidateCreate(email=email, password=password)
)
assert asked.status_code == 202, (asked.status_code, asked.content)
assert isinstance(asked.parsed, CheckYourEmail), asked.parsed
"""

CANDIDATE = """
import os
from vocation_client import AuthenticatedClient, Client
from vocation_client.api.applications import apply_to_offer
from vocation_client.api.candidates import (
    export_my_data, get_current_candidate, request_token, revoke_token, verify_candidate_email,
)
from vocation_client.models import (
    BodyApplyToOffer, BodyRequestToken, BodyRevokeToken, CandidatePublic, TokenResponse,
    VerifyCandidateEmailProveAddress,
)
from vocation_client.types import File

base = os.environ["BASE_URL"]
email, password = "camille.durand@example.org", "un mot de passe solide"
public = Client(base_url=base)

# The token of the link the sign-up's e-mail carried.
proven = verify_candidate_email.sync(
    client=public,
    body=VerifyCandidateEmailProveAddress(token=os.environ["LINK_TOKEN"], password=password),
)
assert isinstance(proven, CandidatePublic) and proven.email_verified, proven

signed_in = request_token.sync(
    client=public,
    body=BodyRequestToken(grant_type="password", username=email, password=password),
)
assert isinstance(signed_in, TokenResponse), signed_in
refreshed = request_token.sync(
    client=public,
    body=BodyRequestToken(grant_type="refresh_token", refresh_token=signed_in.refresh_token),
)
assert isinstance(refreshed, TokenResponse), refreshed
assert refreshed.access_token != signed_in.access_token

candidate = AuthenticatedClient(base_url=base, token=refreshed.access_token)
me = get_current_candidate.sync_detailed(client=candidate)
assert me.status_code == 200 and me.parsed.email == email, (me.status_code, me.content)

document = bytes.fromhex(os.environ["PDF"])
applied = apply_to_offer.sync_detailed(
    os.environ["OFFER_ID"],
    client=candidate,
    body=BodyApplyToOffer(
        first_name="Camille", last_name="Durand", email=email, consent=True,
        cv=File(payload=document, file_name="cv.pdf", mime_type="application/pdf"),
        cover_letter=File(payload=document, file_name="lettre.pdf", mime_type="application/pdf"),
    ),
)
assert applied.status_code == 201, (applied.status_code, applied.content)

export = export_my_data.sync_detailed(client=candidate)
assert export.status_code == 200, (export.status_code, export.content)
(application,) = export.parsed.applications
assert application.id == applied.parsed.id
assert sorted(d.kind.value for d in application.documents) == ["cover_letter", "cv"]

out = revoke_token.sync_detailed(client=public, body=BodyRevokeToken(token=refreshed.refresh_token))
assert out.status_code == 200, (out.status_code, out.content)
after = get_current_candidate.sync_detailed(client=candidate)
assert after.status_code == 401, (after.status_code, after.content)
"""

RECRUITER = """
import os
from vocation_client import AuthenticatedClient
from vocation_client.api.applications import (
    download_application_document, get_application, list_applications,
)

client = AuthenticatedClient(base_url=os.environ["BASE_URL"], token=os.environ["KEY"])
listed = list_applications.sync_detailed(client=client, offer_id=os.environ["OFFER_ID"])
assert listed.status_code == 200, (listed.status_code, listed.content)
(summary,) = listed.parsed.items
detail = get_application.sync(summary.id, client=client)
(cv,) = [d for d in detail.documents if d.kind.value == "cv"]
downloaded = download_application_document.sync_detailed(summary.id, cv.id, client=client)
assert downloaded.status_code == 200, (downloaded.status_code, downloaded.content[:200])
assert downloaded.content == bytes.fromhex(os.environ["PDF"])
"""


@pytest.fixture
def live(settings: Settings, smtp_server: SmtpServer) -> Iterator[str]:
    with serve(create_app(mail_settings(settings, smtp_server))) as base_url:
        yield base_url


@pytest.fixture
def generated(live: str, tmp_path: Path) -> Path:
    """The client, generated from the spec the running app serves, with default settings."""
    output = tmp_path / "client"
    generate(["--url", f"{live}/openapi.json"], output)
    return output


def _run(flow: str, client_dir: Path, **env: str) -> str:
    done = subprocess.run(  # noqa: S603 (the interpreter, on our own code)
        [sys.executable, "-c", flow],
        capture_output=True,
        text=True,
        cwd=client_dir,
        env={**os.environ, **env},
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


async def test_a_partner_filters_follows_the_cursor_and_revalidates(
    app: Any, live: str, generated: Path
) -> None:
    async with app.state.database.sessions() as session:
        organisation = await make_organisation(session)
        expected = [(await make_offer(session, organisation)).title for _ in range(3)]
        # One filter out each: the filters are sent, not just accepted.
        await make_offer(session, organisation, contract_type="cdi")
        lyon = {"city": "Lyon", "postcode": "69001", "departement": "69", "region": "84"}
        await make_offer(session, organisation, **lyon)
        key = await make_key(session, "partner")
    _run(PARTNER, generated, BASE_URL=live, KEY=key, EXPECTED="|".join(expected))


async def test_a_candidate_signs_up_applies_exports_and_signs_out_then_a_recruiter_downloads(
    app: Any, live: str, generated: Path, smtp_server: SmtpServer
) -> None:
    async with app.state.database.sessions() as session:
        organisation = await make_organisation(session)
        offer = await make_offer(session, organisation)
        recruiter = await make_key(session, "recruiter", organisation)
        offer_id = str(offer.id)
    document = pdf().hex()
    _run(SIGN_UP, generated, BASE_URL=live)
    [mail] = smtp_server.wait_for(1)
    token = token_of(link_in(mail, "/v1/candidates/verify"))
    _run(CANDIDATE, generated, BASE_URL=live, OFFER_ID=offer_id, PDF=document, LINK_TOKEN=token)
    # The recruiter finds the application the candidate made, and its CV as it was sent.
    _run(RECRUITER, generated, BASE_URL=live, KEY=recruiter, OFFER_ID=offer_id, PDF=document)
