"""Webhook subscriptions and their deliveries (admins only): add, list, show, remove; the
deliveries with their dead letters, and sending one again or giving up on it."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from api.deps import AdminDep, ServicesDep
from api.problems import problem_responses
from kosiflow.services import Page
from kosiflow.store import Delivery, Subscription

router = APIRouter(tags=["webhooks"])

MAX_PAGE_SIZE = 100
MAX_OFFSET = 2**31 - 1
MAX_DELIVERY_ID = 2**63 - 1
"""The largest number the databases' delivery ids can hold."""
MAX_FILTERS = 50

SubscriptionId = Annotated[str, Path(max_length=64, description="The subscription's id (s-…).")]
DeliveryId = Annotated[
    int, Path(ge=1, le=MAX_DELIVERY_ID, description="The delivery's number, as listed.")
]
FilterNames = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=MAX_FILTERS)
]

_SUBSCRIPTION_EXAMPLE: dict[str, JsonValue] = {
    "id": "s-5d1c4b7f0a8e4c2a9b3d6e1f2a3b4c5d",
    "url": "https://stadtlabor.example/hooks/kosiflow",
    "workflows": ["kosi-lab"],
    "event_types": ["PhaseChanged"],
    "phases": [],
    "created_at": "2026-03-02T09:00:00Z",
}
_DELIVERY_EXAMPLE: dict[str, JsonValue] = {
    "id": 412,
    "subscription_id": "s-5d1c4b7f0a8e4c2a9b3d6e1f2a3b4c5d",
    "event_id": "4f8da6ab-f760-4349-a675-25b11d7b785d:7",
    "initiative_id": "4f8da6ab-f760-4349-a675-25b11d7b785d",
    "seq": 7,
    "type": "PhaseChanged",
    "workflow_id": "kosi-lab",
    "phase": "co_creation",
    "status": "dead",
    "attempts": 8,
    "next_attempt_at": "2026-03-02T10:04:11Z",
    "last_error": "HTTP 500",
    "last_attempt_at": "2026-03-02T10:04:11Z",
    "created_at": "2026-03-02T09:00:01Z",
}


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://stadtlabor.example/hooks/kosiflow",
                    "secret": "ein-langes-geheimnis-0123456789",
                    "workflows": ["kosi-lab"],
                    "event_types": ["PhaseChanged"],
                }
            ]
        },
    )

    url: str = Field(max_length=2000, description="Where to POST the events (http or https).")
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="Signs every request (HMAC-SHA256); made for you when not given.",
    )
    workflows: FilterNames = Field(default_factory=list, description="Only these; none: any.")
    event_types: FilterNames = Field(default_factory=list, description="Only these; none: any.")
    phases: FilterNames = Field(default_factory=list, description="Only in these; none: any.")


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SUBSCRIPTION_EXAMPLE]})

    id: str
    url: str
    workflows: list[str] = Field(description="Only events of these workflows; empty: any.")
    event_types: list[str] = Field(description="Only events of these types; empty: any.")
    phases: list[str] = Field(description="Only events in these phases; empty: any.")
    created_at: datetime

    @classmethod
    def of(cls, s: Subscription) -> "SubscriptionOut":
        return cls(
            id=s.id,
            url=s.url,
            workflows=list(s.workflows),
            event_types=list(s.event_types),
            phases=list(s.phases),
            created_at=s.created_at,
        )


class CreatedSubscriptionOut(SubscriptionOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_SUBSCRIPTION_EXAMPLE, "secret": "ein-langes-geheimnis-0123456789"}]
        }
    )

    secret: str = Field(description="The signing secret; only this answer shows it.")


class SubscriptionListOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_SUBSCRIPTION_EXAMPLE]}]})

    items: list[SubscriptionOut]


class DeliveryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_DELIVERY_EXAMPLE]})

    id: int
    subscription_id: str
    event_id: str = Field(description="The id the webhook carries: initiative_id:seq.")
    initiative_id: str
    seq: int
    type: str
    workflow_id: str
    phase: str
    status: Literal["pending", "delivered", "dead", "skipped"] = Field(
        description="dead: every attempt failed; it holds back the initiative's later events "
        "for this subscription until it is redelivered or skipped."
    )
    attempts: int
    next_attempt_at: datetime = Field(description="When it is tried next, while pending.")
    last_error: str | None
    last_attempt_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, d: Delivery) -> "DeliveryOut":
        return cls(
            id=d.id,
            subscription_id=d.subscription_id,
            event_id=f"{d.initiative_id}:{d.seq}",
            initiative_id=d.initiative_id,
            seq=d.seq,
            type=d.type,
            workflow_id=d.workflow_id,
            phase=d.phase,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_error=d.last_error,
            last_attempt_at=d.last_attempt_at,
            created_at=d.created_at,
        )


class DeliveryPageOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_DELIVERY_EXAMPLE], "total": 1, "limit": 20, "offset": 0}]
        }
    )

    items: list[DeliveryOut]
    total: int = Field(description="How many deliveries match the filters, on all pages.")
    limit: int
    offset: int

    @classmethod
    def of(cls, page: Page[Delivery], *, limit: int, offset: int) -> "DeliveryPageOut":
        items = [DeliveryOut.of(d) for d in page.items]
        return cls(items=items, total=page.total, limit=limit, offset=offset)


def _location(description: str) -> dict[str, Any]:
    return {"Location": {"description": description, "schema": {"type": "string"}}}


@router.get(
    "/subscriptions",
    response_model=SubscriptionListOut,
    summary="List webhook subscriptions",
    responses=problem_responses(401, 403),
)
def list_subscriptions(services: ServicesDep, _: AdminDep) -> SubscriptionListOut:
    """Every webhook subscription with its filters, the oldest first (never the secrets)."""
    return SubscriptionListOut(items=[SubscriptionOut.of(s) for s in services.list_subscriptions()])


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=CreatedSubscriptionOut,
    summary="Subscribe a webhook",
    responses={
        201: {"description": "Subscribed.", "headers": _location("Where it is.")},
        **problem_responses(400, 401, 403, 409, 422),
    },
)
def add_subscription(
    body: SubscriptionIn, services: ServicesDep, _: AdminDep, request: Request, response: Response
) -> CreatedSubscriptionOut:
    """Send the events matching every filter given to a URL, signed with the secret. ``kosiflow
    dispatch`` delivers them: at least once, in order per initiative, with retries."""
    added = services.add_subscription(
        body.url,
        secret=body.secret,
        workflows=body.workflows,
        event_types=body.event_types,
        phases=body.phases,
    )
    response.headers["Location"] = str(
        request.app.url_path_for("get_subscription", subscription_id=added.id)
    )
    return CreatedSubscriptionOut(**SubscriptionOut.of(added).model_dump(), secret=added.secret)


@router.get(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    summary="Show a webhook subscription",
    responses=problem_responses(401, 403, 404, 422),
)
def get_subscription(
    subscription_id: SubscriptionId, services: ServicesDep, _: AdminDep
) -> SubscriptionOut:
    """One subscription with its filters (not its secret)."""
    return SubscriptionOut.of(services.subscription(subscription_id))


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    summary="Remove a webhook subscription",
    responses={
        204: {"description": "Removed, with its deliveries."},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
def remove_subscription(
    subscription_id: SubscriptionId, services: ServicesDep, _: AdminDep
) -> Response:
    """Remove a subscription and its deliveries; an attempt under way still ends."""
    services.remove_subscription(subscription_id)
    return Response(status_code=204)


@router.get(
    "/deliveries",
    response_model=DeliveryPageOut,
    summary="List webhook deliveries",
    responses=problem_responses(401, 403, 422),
)
def list_deliveries(
    services: ServicesDep,
    _: AdminDep,
    status: Annotated[
        Literal["pending", "delivered", "dead", "skipped"] | None,
        Query(description="Only these; dead: the dead letters."),
    ] = None,
    subscription: Annotated[
        str | None, Query(max_length=64, description="Only those of this subscription.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> DeliveryPageOut:
    """Deliveries in the order they were made: each event for each subscription, its status,
    attempts, next attempt and last error."""
    page = services.list_deliveries(
        status=status, subscription_id=subscription, limit=limit, offset=offset
    )
    return DeliveryPageOut.of(page, limit=limit, offset=offset)


_DELIVERY_RESPONSES = problem_responses(401, 403, 404, 409, 422)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    summary="Send a delivery again",
    responses=_DELIVERY_RESPONSES,
)
def redeliver(delivery_id: DeliveryId, services: ServicesDep, _: AdminDep) -> DeliveryOut:
    """Send a dead (or delivered, or skipped) event again, from its first attempt, now; it keeps
    its place before the initiative's later events. A pending one is left as it is."""
    return DeliveryOut.of(services.redeliver(delivery_id))


@router.post(
    "/deliveries/{delivery_id}/skip",
    response_model=DeliveryOut,
    summary="Give up on a delivery",
    responses=_DELIVERY_RESPONSES,
)
def skip_delivery(delivery_id: DeliveryId, services: ServicesDep, _: AdminDep) -> DeliveryOut:
    """Give up on a dead or pending event, so that the initiative's later events may go to the
    subscription. A delivered or skipped one is left as it is."""
    return DeliveryOut.of(services.skip_delivery(delivery_id))
