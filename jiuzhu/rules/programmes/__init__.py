"""The programme catalogue (救助项目目录) as data: who qualifies for what, and how much.

Why data: Dachuan integrated 40 assistance items of 12 departments, and every county
adds or changes items; a catalogue that lives in code would need a programmer for each
local decision. A definition is a YAML file in `jiuzhu/parameters/<level>/catalogue/`,
where level is `national` or a region path (`51/5117/511703`). A region's catalogue adds
programmes, or replaces the one with the same id from a higher level. Amounts and
thresholds are ordinary dated parameters (`programmes.<id>.*`) with their references,
so a change of amount is a parameter change on a date, never an edit of the rule.

A definition::

    id: fire_victims                       # the file name without .yaml
    name: {zh-hans: 火灾受灾群众救助, en: Aid to fire victims}
    reference: the document, article or page the rule comes from
    period: once                           # once | per_year | per_month
    unit: household                        # household | person (one result per member)
    trigger: [house_damage]                # listed only when the case carries one of these
    facts:
      household:
        house_damage: {type: text, choices: [none, partial, complete], description: {zh-hans: …, en: …}}
      members:
        at_home_during_fire: {type: boolean, description: {…}}   # `default: x` or `required: false`
    variables:                             # named steps, in order, shown in the result
      residents_aid: 'param("programmes.fire_victims.per_resident") * count(members, at_home_during_fire)'
      house_aid: {tiers: [{when: 'house_damage == "partial"', value: 'param("…")'}, {value: '0'}]}
    conditions:                            # all must hold; each is shown held or not
      - {id: local_hukou, description: {…}, expression: local_hukou}
    amount: residents_aid + house_aid      # or {tiers: [{when: …, amount: …}, …]}: first match, none → 0
    cap: 'param("…")'                      # optional upper limit
    procedure: {pay_first: 'True'}         # optional, household-level, shown when eligible

Expressions are those of `jiuzhu.rules.expressions`. In a `unit: person` programme the
variables, conditions and amount are member-level (bare names are the member's facts,
`household.<fact>` the household's); it is evaluated for each member that carries one of
its member trigger facts (every member when the triggers are household facts), and its
amount is the sum over the eligible members.

Fact types are number, boolean, text (with choices) and date (ISO text). A fact is
required once its programme is triggered, unless it has a `default` or `required: false`
(then only an expression that actually reads it needs it). A fact name means the same
thing in every programme. The engine, not the case's `facts`, supplies the names in
HOUSEHOLD_BUILTINS and MEMBER_BUILTINS.
"""

from jiuzhu.rules.programmes.evaluation import (
    evaluate_programme,
    evaluate_programmes,
    programme_results,
)
from jiuzhu.rules.programmes.facts import (
    describe_facts,
    triggered,
    validate_facts,
)
from jiuzhu.rules.programmes.loader import (
    default_catalogue,
    load_catalogue,
)
from jiuzhu.rules.programmes.model import (
    CATALOGUE_FOLDER,
    FACT_KINDS,
    GRADIENTS,
    HOUSEHOLD_BUILTINS,
    MEMBER_BUILTINS,
    PERIODS,
    UNITS,
    Catalogue,
    CatalogueError,
    Computation,
    Condition,
    FactSpec,
    MemberResult,
    Programme,
    ProgrammeResult,
    Reason,
    Tier,
    Tiers,
    convert_fact,
    parameter_types,
)

__all__ = [
    "CATALOGUE_FOLDER",
    "FACT_KINDS",
    "GRADIENTS",
    "HOUSEHOLD_BUILTINS",
    "MEMBER_BUILTINS",
    "PERIODS",
    "UNITS",
    "Catalogue",
    "CatalogueError",
    "Computation",
    "Condition",
    "FactSpec",
    "MemberResult",
    "Programme",
    "ProgrammeResult",
    "Reason",
    "Tier",
    "Tiers",
    "convert_fact",
    "default_catalogue",
    "describe_facts",
    "evaluate_programme",
    "evaluate_programmes",
    "load_catalogue",
    "parameter_types",
    "programme_results",
    "triggered",
    "validate_facts",
]
