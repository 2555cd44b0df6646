"""The choices the OpenAPI document lists are the registry's and the engine's own."""

from __future__ import annotations

from typing import get_args

from jiuzhu.api import schemas as s
from jiuzhu.casework.models import Channel, State
from jiuzhu.registry.models import DISABILITY_TYPES
from jiuzhu.rules import vocabulary as v


def test_the_literal_choices_match_their_sources() -> None:
    assert set(get_args(s.Relation)) == set(v.RELATIONS)
    assert set(get_args(s.NotCountedReason)) == {"", *v.NOT_COUNTED_REASONS}
    assert set(get_args(s.Category)) == set(v.CATEGORIES)
    assert set(get_args(s.Sex)) == set(v.SEXES)
    assert set(get_args(s.AreaType)) == set(v.AREA_TYPES)
    assert set(get_args(s.DisabilityType)) == {"", *(code for code, _label in DISABILITY_TYPES)}
    assert set(get_args(s.StateName)) == set(State.values)
    assert set(get_args(s.Channel)) == set(Channel.values)
