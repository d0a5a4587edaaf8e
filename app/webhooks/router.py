"""/v1/webhooks: subscriptions to events, their secret, and their deliveries."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, Request
from starlette.responses import Response

from app.core.api_keys import Role
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.http import check_if_match, etag_of_model, json_response
from app.core.pagination import CursorParam, PageLimit, next_link
from app.core.security import Principal, require_roles
from app.core.strict_query import STRICT_QUERY
from app.core.urls import url_for
from app.webhooks import service, signing
from app.webhooks.schemas import (
    DeliveryPage,
    MessageQueued,
    WebhookCreate,
    WebhookPage,
    WebhookPublic,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

WebhookId = Annotated[uuid.UUID, Path(description="The webhook's id.")]
KeyPrincipal = Annotated[Principal, require_roles(Role.admin, Role.partner, Role.recruiter)]

SIGNING = (
    "Each delivery is a POST of JSON `{type, timestamp, data}` with the headers "
    "`webhook-id` (the same on every attempt: de-duplicate on it), `webhook-timestamp` and "
    "`webhook-signature`, as the Standard Webhooks specification says: verify them with "
    "the `standardwebhooks` library and the secret. A 2xx answer is a success; anything "
    "else (a redirect too) is retried after 5 s, then 3 times longer each time, up to a "
    "day, then given up. A webhook that has failed for three days is disabled."
)


@router.post(
    "",
    operation_id="createWebhook",
    response_model=WebhookWithSecret,
    status_code=201,
    summary="Subscribe to events (partner, admin or recruiter key)",
    description="Partner and admin keys subscribe to offer events, optionally narrowed by "
    "the offer list's filters; recruiter keys to their own organisation's application "
    "events. The answer holds the signing secret, shown this once. " + SIGNING,
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def create_webhook(
    request: Request,
    session: SessionDep,
    principal: KeyPrincipal,
    data: Annotated[WebhookCreate, Body()],
) -> Response:
    subscription = await service.create(session, principal, data, request.app.state.settings)
    return json_response(
        service.with_secret(subscription),
        status_code=201,
        etag=etag_of_model(service.public(subscription)),
        headers={"Location": url_for(request, "get_webhook", subscription_id=subscription.id)},
    )


@router.get(
    "",
    operation_id="listWebhooks",
    response_model=WebhookPage,
    summary="List webhooks",
    description="The key's own webhooks, newest first; an admin key's lists everyone's.",
    responses=problem_responses(401, 403, 422),
    dependencies=[STRICT_QUERY],
)
async def list_webhooks(
    request: Request,
    session: SessionDep,
    principal: KeyPrincipal,
    limit: PageLimit,
    cursor: CursorParam = None,
) -> Response:
    page = await service.list_for(session, principal, limit=limit, cursor=cursor)
    link = next_link(request, page.next_cursor)
    return json_response(page, headers={"Link": link} if link else None)


@router.get(
    "/{subscription_id}",
    operation_id="getWebhook",
    response_model=WebhookPublic,
    summary="Read one webhook",
    description="Its status says whether it is disabled, and why. The secret is not shown: "
    "rotate it to get a new one.",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_webhook(
    session: SessionDep, principal: KeyPrincipal, subscription_id: WebhookId
) -> Response:
    subscription = await service.load_visible(session, principal, subscription_id)
    return json_response(service.public(subscription))


@router.patch(
    "/{subscription_id}",
    operation_id="updateWebhook",
    response_model=WebhookPublic,
    summary="Change or re-enable a webhook",
    description="Send only what changes: `url`, `events`, `filters`, `description`, or "
    "`status: active` to re-enable a disabled webhook. With `If-Match`, refused with 412 "
    "when it changed since that ETag was read.",
    responses=problem_responses(401, 403, 404, 412, 413, 422),
)
async def update_webhook(
    request: Request,
    session: SessionDep,
    principal: KeyPrincipal,
    subscription_id: WebhookId,
    patch: Annotated[WebhookUpdate, Body()],
) -> Response:
    subscription = await service.load_visible(session, principal, subscription_id)
    check_if_match(request, service.public(subscription))
    subscription = await service.update(session, subscription, patch, request.app.state.settings)
    current = service.public(subscription)
    return json_response(current, etag=etag_of_model(current))


@router.delete(
    "/{subscription_id}",
    operation_id="deleteWebhook",
    status_code=204,
    summary="Delete a webhook",
    description="Nothing more is sent to it, not even messages already waiting; its "
    "delivery history goes with it.",
    responses=problem_responses(401, 403, 404, 412, 422),
)
async def delete_webhook(
    request: Request, session: SessionDep, principal: KeyPrincipal, subscription_id: WebhookId
) -> Response:
    subscription = await service.load_visible(session, principal, subscription_id)
    check_if_match(request, service.public(subscription))
    await service.delete(session, subscription)
    return Response(status_code=204)


@router.post(
    "/{subscription_id}/rotate-secret",
    operation_id="rotateWebhookSecret",
    response_model=WebhookWithSecret,
    summary="Rotate a webhook's signing secret",
    description="Answers the new secret, shown this once. For 24 hours the previous one "
    "signs too: `webhook-signature` then carries two signatures, and a receiver holding "
    "either verifies. A second rotation within that day drops the oldest.",
    responses=problem_responses(401, 403, 404, 413, 422),
)
async def rotate_webhook_secret(
    session: SessionDep, principal: KeyPrincipal, subscription_id: WebhookId
) -> Response:
    subscription = await service.load_visible(session, principal, subscription_id)
    subscription = await service.rotate_secret(session, subscription)
    return json_response(
        service.with_secret(subscription), etag=etag_of_model(service.public(subscription))
    )


@router.get(
    "/{subscription_id}/deliveries",
    operation_id="listWebhookDeliveries",
    response_model=DeliveryPage,
    summary="List a webhook's delivery attempts",
    description="Every attempt, newest first: the message, its attempt number, the status "
    "code, at most 1 KiB of the answer, the error and the time it took.",
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[STRICT_QUERY],
)
async def list_webhook_deliveries(
    request: Request,
    session: SessionDep,
    principal: KeyPrincipal,
    subscription_id: WebhookId,
    limit: PageLimit,
    cursor: CursorParam = None,
) -> Response:
    subscription = await service.load_visible(session, principal, subscription_id)
    page = await service.list_deliveries(session, subscription, limit=limit, cursor=cursor)
    link = next_link(request, page.next_cursor)
    return json_response(page, headers={"Link": link} if link else None)


@router.post(
    "/{subscription_id}/ping",
    operation_id="pingWebhook",
    response_model=MessageQueued,
    status_code=202,
    summary="Send a test event to a webhook",
    description="Queues a `webhook.ping` event, signed and delivered as any other; its "
    "attempts appear in the deliveries. 409 when the webhook is disabled.",
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def ping_webhook(
    session: SessionDep, principal: KeyPrincipal, subscription_id: WebhookId
) -> Response:
    subscription = await service.load_visible(session, principal, subscription_id)
    message_id = await service.ping(session, subscription)
    return json_response(MessageQueued(message_id=signing.webhook_id(message_id)), status_code=202)


@router.post(
    "/{subscription_id}/deliveries/{message_id}/redeliver",
    operation_id="redeliverWebhookMessage",
    response_model=MessageQueued,
    status_code=202,
    summary="Deliver a message again",
    description="The message (its `webhook-id`, from the deliveries or from the receiver's "
    "own log) is sent again as it was, with the same `webhook-id` and a new signature, "
    "and a whole schedule of retries if it fails. Messages are kept "
    "`VOCATION_OUTBOX_RETENTION_DAYS` days. 409 when the webhook is disabled, and while "
    "the message is still being delivered (its status `pending`: an attempt or a retry "
    "to come): only a message sent or failed can be delivered again.",
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def redeliver_webhook_message(
    session: SessionDep,
    principal: KeyPrincipal,
    subscription_id: WebhookId,
    message_id: Annotated[
        str,
        Path(
            min_length=1,
            max_length=40,
            pattern=r"^(msg_)?[0-9a-fA-F-]{32,36}$",
            description="The message's `webhook-id` (`msg_…`).",
        ),
    ],
) -> Response:
    subscription = await service.load_visible(session, principal, subscription_id)
    redelivered = await service.redeliver(session, subscription, message_id)
    return json_response(MessageQueued(message_id=signing.webhook_id(redelivered)), status_code=202)
