"""Circularity for recyclers and second-life operators: the recoverable-material inventory of the passports a caller
may see, the recycled-content report against the Art. 8 minimum shares, and the recovery-efficiency report against
the Annex XII Part C targets. Missing data, zero denominators and mixed chemistries are explicit in every figure:
"not declared" is never "below target"."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from passport.access import Role, View, field_in_view
from passport.errors import Forbidden, InvalidInput, Unauthorized
from passport.materials import RECOVERY_2027, RECOVERY_2031, RECYCLED_2031, RECYCLED_2036
from passport.service.access_control import AccessPolicy, AggregateKey, aggregate_counts, log_aggregate
from passport.service.apikeys import Caller
from passport.service.context import ServiceContext
from passport.storage import AccessScope

GROUPS = ("material", "chemistry", "category", "status", "month", "manufacturer", "holder")
# what each filter or grouping reveals; None: passport metadata every view has
REVEALS: Mapping[str, tuple[str, ...] | None] = {
    "material": ("composition", "batteryMaterials"),
    "chemistry": ("composition", "batteryChemistry", "shortName"),
    "category": ("general", "batteryCategory"),
    "status": ("general", "batteryStatus"),
    "holder": ("custody", "holder"),
    "manufacturer": ("general", "operatorInformation"),
    "month": None,
}
METALS = ("Co", "Li", "Ni", "Pb")
NOT_BEFORE_2036 = frozenset({"lmt"})  # Art. 8: the 2031 minimums do not apply to LMT batteries
# Shares and efficiencies are percentages computed from declared values: rounded to this many decimals before they
# are reported or compared with a target, so that floating-point noise never turns "16 % declared" into "below 16 %".
DECIMALS = 6


@dataclass(frozen=True)
class Scope:
    """The passports a caller may aggregate over (None: every passport, for authorities), and the view its filters
    and groupings must stay within."""

    view: View
    passports: AccessScope | None
    policy: AccessPolicy


def scope_for(context: ServiceContext, caller: Caller) -> Scope:
    """Makers and legitimate-interest organisations aggregate what they are responsible for, hold, own or were
    granted (Art. 77(2)); authorities every passport; others nothing, since inventories need material data."""
    if caller.anonymous:
        raise Unauthorized("inventories and reports need an API key")
    if caller.role not in (Role.MANUFACTURER, Role.LEGITIMATE_INTEREST, Role.AUTHORITY):
        raise Forbidden(
            "inventories and reports need material data: a manufacturer, legitimate-interest or authority key")
    policy = AccessPolicy.load(context, caller)
    view = View.AUTHORITY if caller.role is Role.AUTHORITY else View.LEGITIMATE_INTEREST
    return Scope(view, policy.scope(), policy)


def _check_reveals(scope: Scope, names: Iterable[str], what: str) -> None:
    for name in names:
        path = REVEALS[name]
        if path is not None and not field_in_view(path, scope.view):
            raise Forbidden(f"{what} {name!r}: your view ({scope.view.value}) does not contain that field")


@dataclass(frozen=True)
class InventoryQuery:
    status: str | None = None
    chemistry: str | None = None
    category: str | None = None
    holder: str | None = None
    manufacturer: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    group_by: tuple[str, ...] = ("material",)
    include_ceased: bool = False

    def filters(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in ("status", "chemistry", "category", "holder", "manufacturer")
            if getattr(self, name) is not None
        }


def inventory(context: ServiceContext, caller: Caller, query: InventoryQuery) -> dict[str, Any]:
    """Recoverable material masses (kg) and passport counts, grouped as asked (material always among the groups)."""
    scope = scope_for(context, caller)
    unknown = set(query.group_by) - set(GROUPS)
    if unknown:
        raise InvalidInput(f"groupBy: unknown {', '.join(sorted(unknown))}; choose from {', '.join(GROUPS)}")
    groups = tuple(dict.fromkeys(("material", *query.group_by)))
    _check_reveals(scope, groups, "groupBy")
    _check_reveals(scope, query.filters(), "filter")
    window: dict[str, Any] = {"scope": scope.passports, "filters": query.filters(), "since": query.since,
                              "until": query.until, "include_ceased": query.include_ceased}
    rows = context.store.inventory(group_by=groups, **window)
    counts = aggregate_counts(scope.policy, context.store.access_groups(**window))
    log_aggregate(context, caller, "inventory", scope.view, counts)
    return {"groupBy": list(groups), "passports": sum(counts.values()), "rows": rows}


# --- recycled content (Art. 8) ------------------------------------------------------------------------------------


@dataclass
class _MetalFigures:
    passports: int = 0
    present: int = 0
    declared: int = 0
    weight: float = 0.0  # metal mass of declaring passports with a known mass
    pre_weighted: float = 0.0
    post_weighted: float = 0.0
    pre_plain: list[float] = field(default_factory=list)
    post_plain: list[float] = field(default_factory=list)


def _verdict(total: float | None, metal: str, minimum: Mapping[str, float], applicable: bool) -> str:
    if not applicable:
        return "not-applicable"
    if total is None:
        return "not-declared"
    return "meets" if total >= minimum[metal] else "below"


def _share(figures: _MetalFigures) -> tuple[float | None, float | None, float | None, str]:
    """(pre, post, total, basis): mass-weighted over declaring passports whose metal mass is known; a plain average
    when no mass is known (zero denominator); None when nothing is declared."""
    if figures.weight > 0:
        pre, post = figures.pre_weighted / figures.weight, figures.post_weighted / figures.weight
        basis = "mass-weighted"
    elif figures.pre_plain:
        n = len(figures.pre_plain)
        pre, post, basis = sum(figures.pre_plain) / n, sum(figures.post_plain) / n, "unweighted"
    else:
        return None, None, None, "none"
    return round(pre, DECIMALS), round(post, DECIMALS), round(pre + post, DECIMALS), basis


def recycled_content_report(context: ServiceContext, caller: Caller, by: str = "model") -> list[dict[str, Any]]:
    """Declared recycled shares per battery model (``by="model"``) or manufacturer (``by="manufacturer"``) against the
    Art. 8 minimums for 2031 and 2036. LMT batteries are in scope from 2036 only."""
    if by not in ("model", "manufacturer"):
        raise InvalidInput("by: model or manufacturer")
    scope = scope_for(context, caller)
    figures: dict[str, dict[str, _MetalFigures]] = defaultdict(lambda: {m: _MetalFigures() for m in METALS})
    # the same over the passports the 2031 minimums apply to (not LMT): a group mixing categories is judged
    # against 2031 on those alone
    figures_2031: dict[str, dict[str, _MetalFigures]] = defaultdict(lambda: {m: _MetalFigures() for m in METALS})
    categories: dict[str, set[str]] = defaultdict(set)
    chemistries: dict[str, set[str]] = defaultdict(set)
    rows = context.store.recycled_content_rows(scope.passports)
    counts = aggregate_counts(
        scope.policy, ((row["organisation"], row["holder"], row["id"], row["model_id"], 1) for row in rows)
    )
    log_aggregate(context, caller, "report", scope.view, counts)
    for row in rows:
        key = row["organisation"] if by == "manufacturer" else (row["model_id"] or f"gtin:{row['gtin']}")
        categories[key].add(row["category"])
        chemistries[key].add(row["chemistry"])
        _add(figures[key], row)
        if row["category"] not in NOT_BEFORE_2036:
            _add(figures_2031[key], row)
    return [
        _report_row(by, key, figures[key], figures_2031[key], categories[key], chemistries[key])
        for key in sorted(figures)
    ]


def _add(group: dict[str, _MetalFigures], row: Mapping[str, Any]) -> None:
    masses: Mapping[str, float] = row["masses"]
    shares: Mapping[str, tuple[float, float]] = row["shares"]
    for metal in METALS:
        figures = group[metal]
        figures.passports += 1
        mass = masses.get(metal)
        if mass:
            figures.present += 1
        if metal in shares:
            figures.declared += 1
            pre, post = shares[metal]
            figures.pre_plain.append(pre)
            figures.post_plain.append(post)
            if mass:
                figures.weight += mass
                figures.pre_weighted += pre * mass
                figures.post_weighted += post * mass


def _report_row(
    by: str, key: str, group: dict[str, _MetalFigures], group_2031: dict[str, _MetalFigures], categories: set[str],
    chemistries: set[str],
) -> dict[str, Any]:
    metals = {}
    for metal, figures in group.items():
        pre, post, total, basis = _share(figures)
        relevant = figures.present > 0 or figures.declared > 0
        in_2031 = group_2031[metal]
        total_2031 = _share(in_2031)[2]
        metals[metal] = {
            "passports": figures.passports,
            "containing": figures.present,
            "declaring": figures.declared,
            "preConsumer": pre,
            "postConsumer": post,
            "total": total,
            "basis": basis,
            "total2031": total_2031,  # over the passports the 2031 minimums apply to (LMT only from 2036)
            "minimum2031": RECYCLED_2031[metal],
            "minimum2036": RECYCLED_2036[metal],
            "verdict2031": _verdict(total_2031, metal, RECYCLED_2031, in_2031.present > 0 or in_2031.declared > 0),
            "verdict2036": _verdict(total, metal, RECYCLED_2036, relevant),
        }
    return {by: key, "categories": sorted(categories), "chemistries": sorted(chemistries), "metals": metals}


# --- recovery efficiency (Annex XII Part C) -----------------------------------------------------------------------


def recovery_report(context: ServiceContext, caller: Caller, recycler: str | None = None) -> list[dict[str, Any]]:
    """Per recycler and material: recovered mass over the input mass declared in the recycled batteries'
    composition, against the Annex XII Part C targets for the end of 2027 and of 2031. A recycler sees its own
    figures; authorities see every recycler's."""
    if caller.anonymous:
        raise Unauthorized("reports need an API key")
    if caller.role is Role.AUTHORITY:
        selected = recycler
    elif caller.role in (Role.LEGITIMATE_INTEREST, Role.MANUFACTURER) and caller.organisation:
        if recycler not in (None, caller.organisation):
            raise Forbidden("recovery figures of another recycler are for authorities")
        selected = caller.organisation
    else:
        raise Forbidden("recovery reports are for recyclers (their own figures) and authorities")
    records = context.store.recovery_rows(selected)
    _log_recovery_reads(context, caller, records)
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for row in records:
        entry = totals.setdefault(
            (row["recycler"], row["material"]),
            {"batteries": 0, "inputKg": 0.0, "recoveredKg": 0.0, "recoveredWithoutInputKg": 0.0},
        )
        entry["batteries"] += 1
        if row["input_kg"] is None:
            entry["recoveredWithoutInputKg"] += row["recovered_kg"]
        else:
            entry["inputKg"] += row["input_kg"]
            entry["recoveredKg"] += row["recovered_kg"]
    return [_efficiency(name, material, entry) for (name, material), entry in sorted(totals.items())]


def _log_recovery_reads(context: ServiceContext, caller: Caller, records: Sequence[Mapping[str, Any]]) -> None:
    """The input masses come from the recycled batteries' declared composition (restricted data of their
    responsible operators): one access-log entry per manufacturer and basis, as for inventories. Only the holder or
    the responsible operator records a recycling (its recovered masses), so a recycler read its own records as the
    battery's responsible operator or, otherwise, on the custody it had when it recycled the battery."""
    counts: Counter[AggregateKey] = Counter()
    seen: set[str] = set()
    for row in records:
        if row["passport_id"] in seen:  # one record per material: count each battery once
            continue
        seen.add(row["passport_id"])
        if caller.role is Role.AUTHORITY:
            basis = "authority"
        elif row["manufacturer"] == row["recycler"]:
            basis = "responsible-operator"
        else:
            basis = "custody"
        counts[row["manufacturer"], basis, None] += 1
    view = View.AUTHORITY if caller.role is Role.AUTHORITY else View.LEGITIMATE_INTEREST
    log_aggregate(context, caller, "report", view, counts)


def _efficiency(recycler: str, material: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    input_kg, recovered = entry["inputKg"], entry["recoveredKg"]
    efficiency = round(100.0 * recovered / input_kg, DECIMALS) if input_kg > 0 else None
    row = {"recycler": recycler, "material": material, **entry, "efficiency": efficiency}
    for year, targets in (("2027", RECOVERY_2027), ("2031", RECOVERY_2031)):
        target = targets.get(material)
        row[f"target{year}"] = target
        if target is None:
            row[f"verdict{year}"] = "no-target"
        elif efficiency is None:
            row[f"verdict{year}"] = "input-unknown" if entry["recoveredWithoutInputKg"] else "no-input"
        else:
            row[f"verdict{year}"] = "meets" if efficiency >= target else "below"
    return row


def flatten_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Nested report rows as flat dotted columns (for CSV)."""
    return [dict(_flat(row, "")) for row in rows]


def _flat(value: Any, prefix: str) -> Iterable[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            yield from _flat(sub, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        yield prefix, ";".join(str(v) for v in value)
    else:
        yield prefix, value


__all__ = [
    "GROUPS",
    "InventoryQuery",
    "Scope",
    "flatten_rows",
    "inventory",
    "recovery_report",
    "recycled_content_report",
    "scope_for",
]
