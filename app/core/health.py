"""/healthz (the process answers) and /readyz (the database answers, migrated to head)."""

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import JSONResponse, Response

from app.core.db import get_database

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migration: str | None
    expected_migration: str | None


@router.get(
    "/healthz", operation_id="checkLiveness", response_model=Health, summary="The process is up"
)
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="checkReadiness",
    response_model=Readiness,
    summary="The database answers and is migrated to head",
    responses={503: {"model": Readiness, "description": "Not ready: see the body."}},
)
async def readyz(request: Request) -> Response:
    expected: str | None = request.app.state.migration_head
    try:
        async with get_database(request).reader.connect() as connection:
            current = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
    except SQLAlchemyError:
        body = Readiness(
            status="unavailable", database="error", migration=None, expected_migration=expected
        )
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "5"})
    ready = current == expected
    body = Readiness(
        status="ok" if ready else "unavailable",
        database="ok",
        migration=current,
        expected_migration=expected,
    )
    return JSONResponse(
        body.model_dump(), status_code=200 if ready else 503, headers={"Cache-Control": "no-store"}
    )
