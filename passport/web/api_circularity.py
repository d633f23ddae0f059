"""Inventory and reports for recyclers, second-life operators, makers and authorities (JSON, or CSV with
``Accept: text/csv`` or ``?format=csv``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from passport.circularity import (
    GROUPS,
    InventoryQuery,
    flatten_rows,
    inventory,
    recovery_report,
    recycled_content_report,
)
from passport.errors import InvalidInput
from passport.web.auth import CallerDep
from passport.web.deps import Context
from passport.web.responses import PROBLEMS

router = APIRouter(prefix="/api/v1", tags=["circularity"])
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {}, "text/csv": {}}}}


def wants_csv(request: Request, format_: str | None) -> bool:
    return format_ == "csv" or (format_ is None and "text/csv" in request.headers.get("accept", ""))


def csv_response(rows: Sequence[Mapping[str, Any]], filename: str) -> Response:
    flat = flatten_rows(rows)
    columns: list[str] = list(dict.fromkeys(key for row in flat for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(flat)
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Vary": "Authorization"},
    )


FormatQuery = Annotated[str | None, Query(alias="format", pattern="^(json|csv)$")]


def _aware(moment: dt.datetime | None, name: str) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise InvalidInput(f"{name}: give a time zone, e.g. 2026-01-01T00:00:00Z")
    return moment


@router.get("/inventory", summary="Recoverable-material inventory", responses={**PROBLEMS, **CSV_RESPONSE})
def material_inventory(
    request: Request,
    context: Context,
    caller: CallerDep,
    status: Annotated[str | None, Query(pattern="^(original|repurposed|re-used|remanufactured|waste)$")] = None,
    chemistry: Annotated[str | None, Query(max_length=20)] = None,
    category: Annotated[str | None, Query(pattern="^(ev|lmt|industrial|stationary)$")] = None,
    holder: Annotated[str | None, Query(max_length=64, description="Organisation holding the batteries")] = None,
    manufacturer: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[dt.datetime | None, Query(description="Issued from this time")] = None,
    until: Annotated[dt.datetime | None, Query(description="Issued before this time")] = None,
    group_by: Annotated[
        str, Query(alias="groupBy", max_length=100, description=f"Comma-separated: {', '.join(GROUPS)}")
    ] = "material",
    include_ceased: Annotated[bool, Query(alias="includeCeased")] = False,
    format_: FormatQuery = None,
) -> Response:
    """Masses (kg) of Co, Li, Ni, Mn, Pb, Cu, Al, graphite and the other materials in the composition data, and
    passport counts, over the passports the caller may see. Filters and groupings are allowed only on fields the
    caller's view contains (the status: legitimate interest)."""
    query = InventoryQuery(
        status=status,
        chemistry=chemistry,
        category=category,
        holder=holder,
        manufacturer=manufacturer,
        since=_aware(since, "since"),
        until=_aware(until, "until"),
        group_by=tuple(part.strip() for part in group_by.split(",") if part.strip()),
        include_ceased=include_ceased,
    )
    result = inventory(context, caller, query)
    if wants_csv(request, format_):
        return csv_response(result["rows"], "inventory.csv")
    return JSONResponse(result, headers={"Vary": "Authorization, Accept"})


@router.get(
    "/reports/recycled-content",
    summary="Recycled content against the Art. 8 minimum shares",
    responses={**PROBLEMS, **CSV_RESPONSE},
)
def recycled_content(
    request: Request,
    context: Context,
    caller: CallerDep,
    by: Annotated[str, Query(pattern="^(model|manufacturer)$")] = "model",
    format_: FormatQuery = None,
) -> Response:
    """Per battery model or manufacturer and metal (Co, Li, Ni, Pb): declared pre- and post-consumer shares
    (mass-weighted), against the minimums for 2031 and 2036, with "not-declared" and "not-applicable" kept apart
    from "below"."""
    rows = recycled_content_report(context, caller, by)
    if wants_csv(request, format_):
        return csv_response(rows, f"recycled-content-by-{by}.csv")
    return JSONResponse({"by": by, "rows": rows}, headers={"Vary": "Authorization, Accept"})


@router.get(
    "/reports/recovery",
    summary="Recovery efficiency against the Annex XII Part C targets",
    responses={**PROBLEMS, **CSV_RESPONSE},
)
def recovery(
    request: Request,
    context: Context,
    caller: CallerDep,
    recycler: Annotated[str | None, Query(max_length=64)] = None,
    format_: FormatQuery = None,
) -> Response:
    """Per recycler and material: recovered mass over the input declared in the recycled batteries' composition,
    against the targets for the end of 2027 and of 2031."""
    rows = recovery_report(context, caller, recycler)
    if wants_csv(request, format_):
        return csv_response(rows, "recovery-efficiency.csv")
    return JSONResponse({"rows": rows}, headers={"Vary": "Authorization, Accept"})
