"""Columnar households, persons and parameters: what every kernel works on.

One case is a length-1 instance of the same arrays a million-household batch uses, so
the explained scalar path and the vectorised path run the very same functions and
agree to the fen by construction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from jiuzhu.rules.parameters import NotInForce, ParameterContext, ParameterValue

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def round_fen(x: FloatArray) -> FloatArray:
    """Half-up to the fen (0.01 yuan), robust to binary noise (5200.000000000001 → 5200.00).

    The product by 100 is first rounded to 6 decimals so that a value meant as x.xx5
    rounds up as a person with pencil and paper would (DOMAIN.md §14)."""
    y = np.multiply(x, 100.0, dtype=np.float64)
    if not isinstance(y, np.ndarray) or y.ndim == 0:
        return np.floor(np.round(y, 6) + 0.5) / 100.0  # type: ignore[no-any-return]
    # The same operations as np.round(y, 6) (× 10^6, rint, ÷ 10^6), in place: one array, not five.
    np.multiply(y, 1e6, out=y)
    np.rint(y, out=y)
    np.divide(y, 1e6, out=y)
    y += 0.5
    np.floor(y, out=y)
    y /= 100.0
    return y


@dataclass
class Households:
    """n households; every money column in yuan per year."""

    context: IntArray                     # index into the parameter contexts
    income: dict[str, FloatArray]         # kind → amount; absent kinds are zero
    expense: dict[str, FloatArray]
    assets_financial: FloatArray
    homes: FloatArray
    vehicle_value: FloatArray
    previous_topup: FloatArray            # 0 when not in gradual exit
    months_since_employment: FloatArray   # NaN when no employment start was given
    #: Counted members per household when the caller has counted them already (a batch
    #: checks that none is empty), so the engine does not count millions of rows twice.
    counted_members: IntArray | None = None
    #: Members earning the wages (就业成员), for employment costs taken of the minimum wage;
    #: None: one earner wherever there are wages.
    wage_earners: FloatArray | None = None

    @property
    def n(self) -> int:
        return len(self.context)


@dataclass
class Persons:
    """m persons, each pointing at its household by position."""

    household: IntArray
    female: BoolArray
    age: IntArray                         # completed years on the household's date
    disability_grade: IntArray            # 0 = none, 1 (most severe) … 10
    health_coefficient: FloatArray        # NaN = not assessed
    categories: IntArray                  # bit set over vocabulary.CATEGORIES (given tags)
    counted: BoolArray
    imputed_base: FloatArray              # Σ reference earnings × months, before scaling
    refused_work: BoolArray

    @property
    def m(self) -> int:
        return len(self.household)


@dataclass
class ParamArrays:
    """Parameter values spread over households through their context.

    Contexts are resolved lazily and only where a value is needed (`where`), so a
    county that uses the gap method is never asked for its bands. A context that
    lacks a needed value is remembered in `failed` and its households are rejected."""

    contexts: list[ParameterContext]
    household_context: IntArray
    failed: dict[int, tuple[NotInForce, ParameterContext]] = field(default_factory=dict)
    used_by: dict[str, list[str]] = field(default_factory=dict)
    _variable: str | None = None
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    @contextmanager
    def variable(self, name: str) -> Iterator[None]:
        """Record which parameters the computation of `name` reads (for the trace)."""
        previous, self._variable = self._variable, name
        self.used_by.setdefault(name, [])
        try:
            yield
        finally:
            self._variable = previous

    def _note(self, name: str) -> None:
        if self._variable is not None and name not in self.used_by[self._variable]:
            self.used_by[self._variable].append(name)

    def _resolve(self, name: str, where: BoolArray | None) -> list[ParameterValue | None]:
        self._note(name)
        out: list[ParameterValue | None] = []
        for i, ctx in enumerate(self.contexts):
            if (where is not None and not where[i]) or i in self.failed:
                out.append(None)
                continue
            try:
                out.append(ctx.get(name))
            except NotInForce as exc:
                self.failed[i] = (exc, ctx)
                out.append(None)
        return out

    def context_numbers(self, name: str, where: BoolArray | None = None) -> FloatArray:
        key = (name, "n" if where is None else where.tobytes().hex())
        if key not in self._cache:
            values = self._resolve(name, where)
            self._cache[key] = np.array(
                [np.nan if v is None else float(v.value) for v in values], dtype=np.float64  # type: ignore[arg-type]
            )
        else:
            self._note(name)
        result: FloatArray = self._cache[key]
        return result

    def number(self, name: str, where: BoolArray | None = None) -> FloatArray:
        """Per household; NaN where not asked for.

        When every context has the same value (one county, one date) the result is a
        read-only broadcast view: no array of a million copies of one number is made."""
        values = self.context_numbers(name, where)
        if len(values) and (values == values[0]).all():
            same: FloatArray = np.broadcast_to(values[0], self.household_context.shape)
            return same
        return values[self.household_context]

    def context_values(self, name: str, where: BoolArray | None = None, fill: Any = None) -> list[Any]:
        """Per context; `fill` where not asked for or not in force (those households are rejected)."""
        return [fill if v is None else v.value for v in self._resolve(name, where)]

    def context_is(self, name: str, value: str) -> BoolArray:
        """Per context: does the text parameter equal `value`?"""
        return np.array([v == value for v in self.context_values(name)], dtype=np.bool_)

    def is_(self, name: str, value: str) -> BoolArray:
        """Per household: does the text parameter equal `value`?"""
        return self.context_is(name, value)[self.household_context]
