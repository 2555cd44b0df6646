"""Entities of the Jiuzhu reference package: persons grouped in households."""

from openfisca_core.entities import build_entity

Household = build_entity(
    key="household",
    plural="households",
    label="Household (family applying for dibao)",
    roles=[
        {
            "key": "member",
            "plural": "members",
            "label": "Member",
            "doc": "Every person of the household; whether they count is the `counted` variable.",
        },
    ],
)

Person = build_entity(
    key="person",
    plural="persons",
    label="Person",
    is_person=True,
)

entities = [Household, Person]
