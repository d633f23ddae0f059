"""Circularity and resource efficiency (DIN DKE SPEC 99100 §6.6): dismantling, spare parts, safety,
end-of-life information, recycled and renewable content."""

from __future__ import annotations

from passport.models.base import (
    Audience,
    CountryCode,
    Email,
    Granularity,
    HttpUrl,
    MimeType,
    Percent,
    ShortText,
    WireModel,
    group,
    spec,
)
from passport.models.enums import DocumentType, RecycledMetal

PUBLIC, RESTRICTED, MODEL = Audience.PUBLIC, Audience.RESTRICTED, Granularity.MODEL


class DismantlingDocument(WireModel):
    document_type: DocumentType = spec(RESTRICTED, MODEL, "Kind of document.", annex="2(c)", datapoints=(48,))
    mime_type: MimeType = spec(RESTRICTED, MODEL, "Media type, e.g. application/pdf.", annex="2(c)", datapoints=(48,))
    document_url: HttpUrl = spec(
        RESTRICTED, MODEL, "Where the document is.", annex="2(c)", datapoints=(48,), alias="documentURL"
    )


class SupplierAddress(WireModel):
    """Postal address of a spare-part supplier (restricted, unlike the public manufacturer address)."""

    street_address: ShortText = spec(RESTRICTED, MODEL, "Street and number.", annex="2(b)", datapoints=(47,))
    postal_code: ShortText = spec(RESTRICTED, MODEL, "Postal code.", annex="2(b)", datapoints=(47,), max_length=20)
    address_locality: ShortText = spec(RESTRICTED, MODEL, "Town or city.", annex="2(b)", datapoints=(47,))
    address_country: CountryCode = spec(
        RESTRICTED, MODEL, "Country, ISO 3166-1 alpha-2.", annex="2(b)", datapoints=(47,)
    )


class SparePartComponent(WireModel):
    part_name: ShortText = spec(RESTRICTED, MODEL, "Component name.", annex="2(b)", datapoints=(46,))
    part_number: ShortText = spec(RESTRICTED, MODEL, "Part number.", annex="2(b)", datapoints=(46,))


class SparePartSource(WireModel):
    name_of_supplier: ShortText = spec(RESTRICTED, MODEL, "Supplier of spare parts.", annex="2(b)", datapoints=(47,))
    address_of_supplier: SupplierAddress = group("Supplier's postal address.", annex="2(b)", datapoints=(47,))
    email_address_of_supplier: Email = spec(
        RESTRICTED, MODEL, "Supplier's e-mail address.", annex="2(b)", datapoints=(47,)
    )
    supplier_web_address: HttpUrl = spec(RESTRICTED, MODEL, "Supplier's web address.", annex="2(b)", datapoints=(47,))
    components: list[SparePartComponent] = group(
        "Components available from this supplier, with part numbers.",
        annex="2(b)",
        datapoints=(46,),
        min_length=1,
        max_length=500,
    )


class SafetyMeasures(WireModel):
    safety_instructions: HttpUrl = spec(
        RESTRICTED, MODEL, "Safety measures and instructions.", annex="2(d)", datapoints=(49,)
    )
    extinguishing_agent: list[ShortText] = spec(
        PUBLIC,
        MODEL,
        "Usable extinguishing agents (Annex VI A(9)).",
        annex="1(a)",
        datapoints=(14,),
        min_length=1,
        max_length=10,
    )


class EndOfLifeInformation(WireModel):
    """Waste prevention and management information of Art. 74(1)(a)-(f)."""

    waste_prevention: HttpUrl = spec(
        PUBLIC, MODEL, "Role of end-users in waste prevention (Art. 74(1)(a)).", annex="1(s)", datapoints=(43,)
    )
    separate_collection: HttpUrl = spec(
        PUBLIC, MODEL, "Role of end-users in separate collection (Art. 74(1)(b)).", annex="1(s)", datapoints=(43,)
    )
    information_on_collection: HttpUrl = spec(
        PUBLIC,
        MODEL,
        "Collection, preparation for second life and treatment (Art. 74(1)(c)).",
        annex="1(s)",
        datapoints=(43,),
    )


class RecycledContent(WireModel):
    recycled_material: RecycledMetal = spec(PUBLIC, MODEL, "Metal.", annex="1(e)", datapoints=(20, 21, 22, 23))
    pre_consumer_share: Percent = spec(
        PUBLIC,
        MODEL,
        "Share recovered from manufacturing waste.",
        annex="1(e)",
        datapoints=(20, 21, 22, 23),
        unit="%",
    )
    post_consumer_share: Percent = spec(
        PUBLIC,
        MODEL,
        "Share recovered from post-consumer waste.",
        annex="1(e)",
        datapoints=(20, 21, 22, 23),
        unit="%",
    )


class Circularity(WireModel):
    dismantling_and_removal_information: list[DismantlingDocument] = group(
        "Dismantling information: exploded diagrams, disassembly sequences, fastenings, tools, warnings, cell layout.",
        annex="2(c)",
        datapoints=(48,),
        min_length=1,
        max_length=50,
    )
    spare_part_sources: list[SparePartSource] = group(
        "Part numbers for components and contact details of sources for replacement spares.",
        annex="2(b)",
        datapoints=(46, 47),
        min_length=1,
        max_length=50,
    )
    safety_measures: SafetyMeasures = group("Safety measures and usable extinguishing agents.")
    end_of_life_information: EndOfLifeInformation = group(
        "Waste prevention and management information.", annex="1(s)", datapoints=(43,)
    )
    recycled_content: list[RecycledContent] = group(
        "Recycled content per metal (Art. 8): Co, Li and Ni in active materials, Pb in the battery.",
        annex="1(e)",
        datapoints=(20, 21, 22, 23),
        default_factory=list,
        max_length=4,
    )
    renewable_content: Percent = spec(
        PUBLIC, MODEL, "Share of renewable content.", annex="1(f)", datapoints=(24,), unit="%"
    )


__all__ = [
    "Circularity",
    "DismantlingDocument",
    "EndOfLifeInformation",
    "RecycledContent",
    "SafetyMeasures",
    "SparePartComponent",
    "SparePartSource",
    "SupplierAddress",
]
