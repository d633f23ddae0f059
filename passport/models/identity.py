"""General product information (DIN DKE SPEC 99100 §6.1): identifiers, operators, category, dates, status."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from passport.models.base import (
    Audience,
    CountryCode,
    Email,
    Granularity,
    HttpUrl,
    IsoDate,
    ShortText,
    WireModel,
    group,
    optional_group,
    spec,
)
from passport.models.enums import BatteryCategory, BatteryStatus

PUBLIC, ITEM, MODEL = Audience.PUBLIC, Granularity.ITEM, Granularity.MODEL

PASSPORT_ID_PATTERN = r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
PassportId = Annotated[str, StringConstraints(pattern=PASSPORT_ID_PATTERN)]
"""A passport identifier: a lower-case UUID URN (UUID v7 when the service assigns it)."""

Gtin14 = Annotated[str, StringConstraints(pattern=r"^[0-9]{14}$")]
# GS1 AI 21 (serial number): 1-20 characters of GS1 AI encodable character set 82.
SERIAL_PATTERN = r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$"
Serial = Annotated[str, StringConstraints(pattern=SERIAL_PATTERN)]


class PostalAddress(WireModel):
    street_address: ShortText = spec(PUBLIC, MODEL, "Street and number.")
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20)] = spec(PUBLIC, MODEL, "Postal code.")
    address_locality: ShortText = spec(PUBLIC, MODEL, "Town or city.")
    address_country: CountryCode = spec(PUBLIC, MODEL, "Country, ISO 3166-1 alpha-2.")


class ContactInformation(WireModel):
    """An economic operator or manufacturer: name, identifier, single contact point."""

    contact_name: ShortText = spec(PUBLIC, MODEL, "Name, registered trade name or registered trade mark.")
    identifier: ShortText = spec(PUBLIC, MODEL, "Unique operator identifier (e.g. EORI, VAT number, LEI or GS1 GLN).")
    postal_address: PostalAddress = group("Postal address, indicating a single contact point.")
    email_address: Email | None = spec(PUBLIC, MODEL, "E-mail address, if available.", default=None)
    web_address: HttpUrl | None = spec(PUBLIC, MODEL, "Web address, if available.", default=None)


class ManufacturingPlace(WireModel):
    """Geographical location of the manufacturing plant (Annex VI A(3))."""

    facility_name: ShortText | None = spec(PUBLIC, ITEM, "Name of the plant.", default=None)
    street_address: ShortText = spec(PUBLIC, ITEM, "Street and number of the plant.")
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20)] = spec(
        PUBLIC, ITEM, "Postal code of the plant."
    )
    address_locality: ShortText = spec(PUBLIC, ITEM, "Town or city of the plant.")
    address_country: CountryCode = spec(PUBLIC, ITEM, "Country of the plant, ISO 3166-1 alpha-2.")


class RegistrationIdentifiers(WireModel):
    """Registry identifiers that BatteryPass-Ready reserves to notified bodies, authorities and the Commission."""

    economic_operator_identifier: ShortText | None = spec(
        Audience.AUTHORITIES_ONLY, ITEM, "Unique economic operator identifier.", default=None
    )
    manufacturer_identifier: ShortText | None = spec(
        Audience.AUTHORITIES_ONLY, MODEL, "Unique manufacturer identifier.", default=None
    )
    facility_identifier: ShortText | None = spec(
        Audience.AUTHORITIES_ONLY, ITEM, "Unique facility identifier of the manufacturing plant.", default=None
    )


class GeneralProductInformation(WireModel):
    gtin: Gtin14 = spec(
        PUBLIC,
        MODEL,
        "GTIN-14 of the battery model (GS1 AI 01; check digit verified).",
        annex="1(a)",
        datapoints=(7,),
    )
    model_identifier: ShortText = spec(
        PUBLIC, MODEL, "Manufacturer's model identification.", annex="1(a)", datapoints=(7,)
    )
    model_name: ShortText | None = spec(PUBLIC, MODEL, "Commercial name of the battery model.", default=None)
    serial_number: Serial = spec(
        PUBLIC,
        ITEM,
        "Serial number (GS1 AI 21: 1-20 characters of the GS1 character set 82).",
        annex="1(a)",
        datapoints=(7,),
    )
    batch_number: Serial | None = spec(
        PUBLIC, ITEM, "Batch or lot number (GS1 AI 10).", annex="1(a)", datapoints=(7,), default=None
    )
    battery_category: BatteryCategory = spec(PUBLIC, MODEL, "Battery category.", annex="1(a)", datapoints=(6,))
    battery_mass: float = spec(PUBLIC, MODEL, "Weight of the battery.", annex="1(a)", datapoints=(10,), unit="kg", gt=0)
    manufacturing_date: IsoDate = spec(PUBLIC, ITEM, "Date of manufacture.", annex="1(a)", datapoints=(9,))
    manufacturing_place: ManufacturingPlace = group(
        "Place of manufacture: geographical location of the manufacturing plant.", annex="1(a)", datapoints=(8,)
    )
    putting_into_service: IsoDate | None = spec(
        Audience.LEGITIMATE_INTEREST_ONLY,
        ITEM,
        "Date of putting the battery into service (Annex VII Part B).",
        annex="4",
        default=None,
    )
    warranty_period: int | None = spec(
        PUBLIC,
        MODEL,
        "Period for which the commercial warranty for the calendar life applies.",
        annex="1(m)",
        datapoints=(35,),
        unit="month",
        default=None,
        gt=0,
        le=1200,
    )
    manufacturer_information: ContactInformation = group(
        "Manufacturer: name, registered trade name or mark, postal address (single contact point), web and e-mail.",
        granularity=MODEL,
        annex="1(a)",
        datapoints=(3, 4, 5),
    )
    operator_information: ContactInformation = group(
        "Economic operator registering and responsible for the passport.",
        granularity=ITEM,
        annex="Art. 77(3)",
        datapoints=(2,),
    )
    registration_identifiers: RegistrationIdentifiers | None = optional_group(
        "Registry identifiers of operator, manufacturer and facility (authorities only)."
    )
    battery_status: BatteryStatus = spec(
        Audience.LEGITIMATE_INTEREST_ONLY,
        ITEM,
        "Status of the battery.",
        annex="4(c)",
        datapoints=(67,),
    )
    predecessor_passports: list[PassportId] = spec(
        Audience.LEGITIMATE_INTEREST_ONLY,
        ITEM,
        "Passports of the original battery or batteries of a re-used, repurposed or remanufactured battery "
        "(Art. 77(7)). They reveal the status, so they share its audience.",
        annex="4(c)",
        default_factory=list,
        max_length=100,
    )
    successor_passports: list[PassportId] = spec(
        Audience.LEGITIMATE_INTEREST_ONLY,
        ITEM,
        "Passports of the batteries this battery became after a second life (set by the service).",
        annex="4(c)",
        default_factory=list,
        max_length=100,
    )


__all__ = [
    "PASSPORT_ID_PATTERN",
    "SERIAL_PATTERN",
    "ContactInformation",
    "GeneralProductInformation",
    "Gtin14",
    "ManufacturingPlace",
    "PassportId",
    "PostalAddress",
    "RegistrationIdentifiers",
    "Serial",
]
