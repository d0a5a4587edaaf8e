"""Templates to texts: each e-mail is three templates in templates/, its subject, its plain
text and its HTML."""

from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("app.mail", "templates"),
        # Names, titles and notes come from people: escaped in HTML, never in plain text.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        # A missing value is a bug to see in the tests, not an empty line in a mail.
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, context: dict[str, Any]) -> Rendered:
    environment = _environment()
    subject = environment.get_template(f"{template}.subject.j2").render(context)
    return Rendered(
        # A header is one line, whatever a title holds.
        subject=" ".join(subject.split()),
        text=environment.get_template(f"{template}.txt.j2").render(context),
        html=environment.get_template(f"{template}.html.j2").render(context),
    )
