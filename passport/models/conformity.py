"""Labels, symbols and documentation of conformity (Art. 13, Art. 18; DIN DKE SPEC 99100 §6.2)."""

from __future__ import annotations

from passport.models.base import (
    LANGUAGE_TAG_PATTERN,
    Audience,
    Granularity,
    HttpUrl,
    LanguageTag,
    ShortText,
    Text,
    WireModel,
    group,
    spec,
)
from passport.models.enums import LabelSubject

PUBLIC, MODEL = Audience.PUBLIC, Granularity.MODEL


class Label(WireModel):
    labeling_subject: LabelSubject = spec(PUBLIC, MODEL, "What the label is about.", annex="1(q)", datapoints=(40, 41))
    labeling_symbol: HttpUrl = spec(PUBLIC, MODEL, "Graphic of the symbol.", annex="1(q)", datapoints=(40, 41))
    labeling_meaning: dict[LanguageTag, Text] = spec(
        PUBLIC,
        MODEL,
        "Meaning of the label, per language (BCP 47 tag).",
        annex="1(s)",
        datapoints=(43,),
        min_length=1,
        max_length=30,
        # keys outside the language-tag pattern are refused, as Pydantic refuses them
        schema_extra={"additionalProperties": False, "propertyNames": {"pattern": LANGUAGE_TAG_PATTERN}},
    )


class Conformity(WireModel):
    labels: list[Label] = group(
        "Labels and symbols: separate collection (Art. 13(4)), Cd/Pb (Art. 13(5)), others.",
        annex="1(q)",
        datapoints=(40, 41),
        min_length=1,
        max_length=20,
    )
    declaration_of_conformity: HttpUrl = spec(
        PUBLIC, MODEL, "EU declaration of conformity (Art. 18).", annex="1(r)", datapoints=(42,)
    )
    declaration_of_conformity_id: ShortText | None = spec(
        PUBLIC,
        MODEL,
        "Identification number of the EU declaration of conformity.",
        annex="1(r)",
        datapoints=(42,),
        default=None,
    )
    result_of_test_report: HttpUrl = spec(
        Audience.AUTHORITIES_ONLY,
        MODEL,
        "Results of test reports proving compliance with the Regulation.",
        annex="3",
        datapoints=(50,),
    )
    instructions_for_use: HttpUrl | None = spec(
        PUBLIC,
        MODEL,
        "Instructions for use (printable or downloadable); pending as of February 2027.",
        annex="1(t)",
        datapoints=(44,),
        default=None,
    )


__all__ = ["Conformity", "Label"]
