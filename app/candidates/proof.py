"""The password a link asks for besides its token."""

from app.candidates.guard import Guard
from app.core.errors import FieldError, Unprocessable


class WrongPassword(Unprocessable):
    def __init__(self) -> None:
        super().__init__(
            "This is not the account's password.",
            errors=[FieldError(field="password", message="not the account's password")],
        )


async def require_password(guard: Guard, stored_hash: str, password: str) -> None:
    """422 unless ``password`` matches; through the bounded hashing queue (503 when full),
    and with no database connection held by the caller while it waits."""
    if not await guard.hashing.verify(stored_hash, password):
        raise WrongPassword()
