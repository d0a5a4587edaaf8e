"""How hard a new password is to guess, by zxcvbn (Dropbox's estimator: common passwords,
dictionary words, keyboard walks, repeats, dates, and the person's own details)."""

import re

from zxcvbn import zxcvbn

from app.core.errors import FieldError, Unprocessable

# zxcvbn's cost grows fast with length; past this, its verdict no longer changes.
_CHECKED_LENGTH = 72


class TooEasy(Unprocessable):
    """Its own class, so that a page can say it in French next to the field."""


def check(password: str, email: str, least_score: int) -> None:
    """Raise a 422 that says why, when ``password`` scores under ``least_score`` (0-4)."""
    # The address and its words: a password made of them is guessed first.
    user_inputs = [email, *re.split(r"[@.+_-]+", email)]
    # zxcvbn refuses (ValueError) rather than truncates past max_length.
    result = zxcvbn(
        password[:_CHECKED_LENGTH],
        user_inputs=[part for part in user_inputs if part],
        max_length=_CHECKED_LENGTH,
    )
    if result["score"] >= least_score:
        return
    feedback = result["feedback"]
    reasons = [feedback["warning"]] if feedback["warning"] else []
    if any(match.get("dictionary_name") == "user_inputs" for match in result["sequence"]):
        reasons.append("It contains your e-mail address, or words of it.")
    reasons.extend(feedback["suggestions"])
    message = f"too easy to guess (strength {result['score']} of 4, {least_score} needed)"
    if reasons:
        message += ": " + " ".join(reasons)
    raise TooEasy(
        "This password is too easy to guess.",
        errors=[FieldError(field="password", message=message)],
    )
