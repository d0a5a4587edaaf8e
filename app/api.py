"""The /v1 router: every domain's routes, under one version prefix."""

from fastapi import APIRouter

from app.applications.confirm_router import router as application_confirmation
from app.applications.router import router as applications
from app.candidates.router import router as candidates
from app.offers.bulk.router import router as offer_uploads
from app.offers.router import router as offers
from app.organisations.router import router as organisations
from app.referentials.router import router as referentials
from app.syndication.router import router as feeds
from app.webhooks.router import router as webhooks

v1 = APIRouter(prefix="/v1")
# Routes are matched in order: the hottest reads (offers, feeds) are tried first.
v1.include_router(offers)
v1.include_router(feeds)
v1.include_router(organisations)
v1.include_router(offer_uploads)
v1.include_router(referentials)
v1.include_router(application_confirmation)
v1.include_router(applications)
v1.include_router(candidates)
v1.include_router(webhooks)
