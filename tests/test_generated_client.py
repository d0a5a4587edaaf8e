"""A client generated from the committed spec, with the generator's default settings, is
one a developer can use as it is (issue 14: the generator crashed on `Categorie`)."""

import subprocess
import sys
from pathlib import Path

from tests.python_client import generate

SPEC = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"

# What a developer would try first: the enum member the generator once crashed on, and
# the CV the client once sent as text.
USE_IT = """
from vocation_client import Client
from vocation_client.api.applications import apply_to_offer
from vocation_client.api.offers import list_offers
from vocation_client.models import BodyApplyToOffer, Categorie
from vocation_client.types import File

assert Categorie.A_PLUS.value == "A+" and Categorie.A.value == "A"
body = BodyApplyToOffer(
    first_name="Camille", last_name="Durand", email="c@example.org", consent=True,
    cv=File(payload=b"%PDF-1.4", file_name="cv.pdf", mime_type="application/pdf"),
)
name, (file_name, payload, mime_type) = [p for p in body.to_multipart() if p[0] == "cv"][0]
assert (file_name, mime_type) == ("cv.pdf", "application/pdf"), (file_name, mime_type)
assert callable(apply_to_offer.sync_detailed) and callable(list_offers.sync)
Client(base_url="http://127.0.0.1")
"""


def test_openapi_python_client_generates_a_working_client(tmp_path: Path) -> None:
    output = tmp_path / "client"
    generate(["--path", SPEC], output)
    used = subprocess.run(  # noqa: S603 (the interpreter, on our own code)
        [sys.executable, "-c", USE_IT],
        capture_output=True,
        text=True,
        cwd=output,
        check=False,
        timeout=120,
    )
    assert used.returncode == 0, used.stderr
