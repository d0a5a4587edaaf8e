"""The one exception every document check raises, kept apart so that each check can live in
its own module without importing the others."""


class DocumentRejected(Exception):
    """An upload that is not an acceptable document. ``status`` is the HTTP status to answer
    (413, 415 or 422) and the message, in plain English, is meant for the problem's detail."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
