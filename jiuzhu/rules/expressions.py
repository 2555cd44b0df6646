"""A small, safe expression language for the programme catalogue (救助项目目录).

Why a language at all: the catalogue is data that policy staff edit (Dachuan integrated
40 items of 12 departments), so its conditions and amounts cannot be Python code, and
file content must never reach `eval`/`exec`. An expression is parsed with
`ast.parse(mode="eval")`, checked against a whitelist and the declared facts, typed, and
turned into closures once at load time; evaluating it later touches only those closures.

Syntax (a subset of Python expression syntax)::

    42   3.5   "cancer"   True   False            literals
    house_damage   household.local_hukou          facts (names), household.<fact> from a member
    a and b   a or b   not a                       booleans only
    a == b  a != b  a < b  a <= b  a > b  a >= b   chains allowed: 1 <= grade <= 3
    x in ["leukaemia", "uraemia"]   x not in [...] a list literal, or a list-valued fact
    a + b   a - b   a * b   a / b   -a             numbers only (no **, //, %)
    a if condition else b                          both branches of the same type

Functions (nothing else can be called)::

    min(a, b, ...)  max(a, b, ...)  abs(x)  floor(x)
    round_fen(x)                      half-up to the fen (0.01 yuan)
    months_between(start, end)        completed months between two dates
    days_between(start, end)          days from start to end
    param("programmes.x.y")           the parameter in force for the case (recorded for the trace)
    count(members[, where][, fact=value ...])          how many members
    sum_of(members, value[, where][, fact=value ...])  the sum of a member-level value
    any_of(members, where[, ...])   all_of(members, where[, ...])

In the member-level arguments (`where`, `value`) bare names are that member's facts and
`household.<fact>` reaches the household; `fact=value` keywords are equality filters,
e.g. `count(members, at_home_during_fire)` or `any_of(members, tekun_support="dispersed")`.
There are no lambdas, comprehensions, subscripts, attributes other than `household.<fact>`,
and no names starting with an underscore.

Types: number, boolean, text (with its choices when declared), date, texts (a list of
texts such as `categories`) and list (a list parameter). A comparison between a text with
choices and a literal outside them is an error at load time, so a misspelt choice
(`diagnosis == "leukemia"`) never silently evaluates to false.
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from jiuzhu.rules.arrays import round_fen as round_fen_array
from jiuzhu.rules.errors import TemplateError
from jiuzhu.rules.errors import gettext_noop as _

ParamReader = Callable[[str], Any]
Kind = Literal["number", "boolean", "text", "date", "texts", "list", "any"]
ScopeName = Literal["household", "member"]

MAX_SOURCE_LENGTH = 2000
MAX_DEPTH = 40
AGGREGATES = ("count", "sum_of", "any_of", "all_of")
FUNCTIONS = ("min", "max", "abs", "floor", "round_fen", "months_between", "days_between", "param",
             *AGGREGATES)

_FORBIDDEN = {
    "Lambda": "lambda", "ListComp": "a comprehension", "SetComp": "a comprehension",
    "DictComp": "a comprehension", "GeneratorExp": "a comprehension", "Subscript": "indexing ([…])",
    "Starred": "unpacking (*)", "NamedExpr": "assignment (:=)", "JoinedStr": "an f-string",
    "FormattedValue": "an f-string", "Dict": "a dict", "Set": "a set", "Await": "await",
    "Yield": "yield", "YieldFrom": "yield", "Slice": "a slice",
}
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


class ExpressionError(TemplateError):
    """An expression that is not allowed, not well typed, or that failed to evaluate."""


class MissingFact(Exception):
    """A fact an expression needs is not in the case (member is None for a household fact)."""

    def __init__(self, name: str, member: int | None):
        self.name = name
        self.member = member
        super().__init__(name)


@dataclass(frozen=True)
class FactType:
    """The static type of a fact or an expression; `choices` narrows a text."""

    kind: Kind
    choices: tuple[str, ...] | None = None


NUMBER = FactType("number")
BOOLEAN = FactType("boolean")
TEXT = FactType("text")
DATE = FactType("date")
TEXTS = FactType("texts")
ANY = FactType("any")
_PARAMETER_KINDS: dict[str, FactType] = {"number": NUMBER, "boolean": BOOLEAN, "text": TEXT,
                                         "list": FactType("list")}


@dataclass(frozen=True)
class Schema:
    """The names an expression may use: household-level and member-level facts with their types."""

    household: Mapping[str, FactType]
    member: Mapping[str, FactType] = field(default_factory=dict)


def round_fen(amount: float) -> float:
    """Half-up to the fen with the engine's own rule, so a programme amount and the dibao
    amounts round alike (DOMAIN.md §14: 5147.999999999999 → 5148.00, 2.675 → 2.68)."""
    if not math.isfinite(amount):
        raise ExpressionError(_("the amount is not a finite number"))
    return float(round_fen_array(np.asarray([amount], dtype=np.float64))[0])


def months_between(start: dt.date, end: dt.date) -> int:
    """Completed months from start to end (2019-01-15 → 2019-07-14 is 5)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


class Environment:
    """What one evaluation sees: a household (with its members) or one member and its household.

    Computed names (a programme's variables) are evaluated on first use and kept, so a
    variable used by two conditions is computed once and shows in the result."""

    def __init__(self, values: Mapping[str, Any], param: ParamReader, *,
                 computed: Mapping[str, Callable[[Environment], Any]] | None = None,
                 household: Environment | None = None, members: Sequence[Mapping[str, Any]] = (),
                 member: int | None = None):
        self.values = values
        self.param = param
        self.household = household
        self.member = member
        self._computed = computed or {}
        self._cache: dict[str, Any] = {}
        self._member_rows = members
        self._member_envs: list[Environment] | None = None

    def get(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name in self._cache:
            return self._cache[name]
        if name in self._computed:
            self._cache[name] = self._computed[name](self)
            return self._cache[name]
        raise MissingFact(name, self.member)

    def root(self) -> Environment:
        return self.household or self

    def members(self) -> list[Environment]:
        root = self.root()
        if root._member_envs is None:
            root._member_envs = [Environment(row, root.param, household=root, member=i)
                                 for i, row in enumerate(root._member_rows)]
        return root._member_envs

    def computed_values(self) -> dict[str, Any]:
        """The variables evaluated so far, in declaration order."""
        return {name: self._cache[name] for name in self._computed if name in self._cache}


_Run = Callable[[Environment], Any]


@dataclass(frozen=True)
class Expression:
    """A compiled expression: check once, evaluate many times."""

    source: str
    type: FactType
    names: frozenset[str]
    parameters: frozenset[str]
    run: _Run = field(repr=False, compare=False)

    def evaluate(self, env: Environment) -> Any:
        try:
            return self.run(env)
        except ExpressionError:
            raise
        except ZeroDivisionError:
            raise ExpressionError(_("division by zero in “{source}”"), source=self.source) from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise ExpressionError(_("could not evaluate “{source}”: {error}"),
                                  source=self.source, error=str(exc)) from None


@dataclass(frozen=True)
class _Node:
    type: FactType
    run: _Run
    constant: Any = None
    is_constant: bool = False


def compile_expression(source: str, schema: Schema, *, scope: ScopeName = "household",
                       parameters: Mapping[str, str] | None = None) -> Expression:
    """Parse, whitelist and type-check `source`; raises ExpressionError with the reason.

    `parameters` maps each declared parameter name to its type (number, text, boolean,
    list); with None, `param()` names are not checked (for tests of the language)."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError(_("an expression is needed"))
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(_("the expression is longer than {limit} characters"), limit=MAX_SOURCE_LENGTH)
    # YAML folds long rules over lines; a line break is never inside a literal, so join them
    text = " ".join(line.strip() for line in source.strip().splitlines())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(_("syntax error at column {column}: {reason}"),
                              column=exc.offset or 0, reason=exc.msg) from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError(_("the expression cannot be read")) from None
    compiler = _Compiler(schema, parameters)
    node = compiler.visit(tree.body, scope, 0)
    return Expression(text, node.type, frozenset(compiler.names), frozenset(compiler.params), node.run)


def _compatible(a: FactType, b: FactType) -> bool:
    if "any" in (a.kind, b.kind) or a.kind == b.kind:
        return True
    return {a.kind, b.kind} <= {"texts", "list"}


def union_type(types: Sequence[FactType]) -> FactType:
    """The type of `a if c else b` or of tiers: texts keep the union of their choices."""
    kinds = {t.kind for t in types if t.kind != "any"}
    if not kinds:
        return ANY
    kind = next(iter(kinds))
    if kind != "text" or any(t.choices is None for t in types if t.kind == "text"):
        return FactType(kind)
    choices: list[str] = []
    for t in types:
        for c in t.choices or ():
            if c not in choices:
                choices.append(c)
    return FactType("text", tuple(choices))


def did_you_mean(name: str, known: Sequence[str]) -> str | None:
    """The declared name closest to a misspelt one, if any is close."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return close[0] if close else None


def _unknown(plain: str, hinted: str, name: str, known: Sequence[str]) -> ExpressionError:
    """Two whole templates rather than a glued-on hint, so both read well when translated."""
    close = did_you_mean(name, known)
    if close is None:
        return ExpressionError(plain, name=name)
    return ExpressionError(hinted, name=name, close=close)


class _Compiler:
    def __init__(self, schema: Schema, parameters: Mapping[str, str] | None):
        self.schema = schema
        self.parameters = parameters
        self.names: set[str] = set()
        self.params: set[str] = set()
        self.in_aggregate = False

    def visit(self, node: ast.AST, scope: ScopeName, depth: int) -> _Node:
        if depth > MAX_DEPTH:
            raise ExpressionError(_("the expression is nested too deeply"))
        kind = type(node).__name__
        method: Callable[[Any, ScopeName, int], _Node] | None = getattr(self, f"_{kind}", None)
        if method is None:
            construct = _FORBIDDEN.get(kind, kind)
            raise ExpressionError(_("{construct} is not allowed in an expression"), construct=construct)
        return method(node, scope, depth + 1)

    def expect(self, node: ast.AST, scope: ScopeName, depth: int, want: FactType, what: str) -> _Node:
        found = self.visit(node, scope, depth)
        if not _compatible(found.type, want):
            raise ExpressionError(_("{what} must be {want}, not {found}"),
                                  what=what, want=want.kind, found=found.type.kind)
        return found

    # literals and names

    def _Constant(self, node: ast.Constant, scope: ScopeName, depth: int) -> _Node:
        value = node.value
        if isinstance(value, bool):
            kind = BOOLEAN
        elif isinstance(value, int | float):
            kind = NUMBER
        elif isinstance(value, str):
            kind = FactType("text", (value,))
        else:
            raise ExpressionError(_("the literal {value} is not allowed"), value=repr(value))
        return _Node(kind, lambda env: value, value, True)

    def _Name(self, node: ast.Name, scope: ScopeName, depth: int) -> _Node:
        name = node.id
        if name.startswith("_"):
            raise ExpressionError(_("names starting with an underscore are not allowed"))
        if name == "members":
            raise ExpressionError(
                _("members can only be the first argument of count, sum_of, any_of or all_of"))
        if name == "household":
            raise ExpressionError(_("write household.<fact> to use a household fact"))
        known = self.schema.household if scope == "household" else self.schema.member
        if name not in known:
            raise _unknown(_("unknown name “{name}”"), _("unknown name “{name}” (did you mean “{close}”?)"),
                           name, list(known))
        self.names.add(f"{scope}.{name}")
        return _Node(known[name], lambda env: env.get(name))

    def _Attribute(self, node: ast.Attribute, scope: ScopeName, depth: int) -> _Node:
        attr = node.attr
        if attr.startswith("_"):
            raise ExpressionError(_("“{name}” is not allowed"), name=attr)
        if not (isinstance(node.value, ast.Name) and node.value.id == "household"):
            raise ExpressionError(_("only household.<fact> may use a dot"))
        if attr not in self.schema.household:
            raise _unknown(_("unknown household fact “{name}”"),
                           _("unknown household fact “{name}” (did you mean “{close}”?)"),
                           attr, list(self.schema.household))
        self.names.add(f"household.{attr}")
        return _Node(self.schema.household[attr], lambda env: env.root().get(attr))

    def _List(self, node: ast.List, scope: ScopeName, depth: int) -> _Node:
        raise ExpressionError(_("a list is only allowed on the right of “in”"))

    _Tuple = _List

    # operators

    def _BoolOp(self, node: ast.BoolOp, scope: ScopeName, depth: int) -> _Node:
        word = "and" if isinstance(node.op, ast.And) else "or"
        runs = [self.expect(v, scope, depth, BOOLEAN, f"each side of “{word}”").run for v in node.values]
        if word == "and":
            def run(env: Environment) -> bool:
                return all(r(env) for r in runs)
        else:
            def run(env: Environment) -> bool:
                return any(r(env) for r in runs)
        return _Node(BOOLEAN, run)

    def _UnaryOp(self, node: ast.UnaryOp, scope: ScopeName, depth: int) -> _Node:
        if isinstance(node.op, ast.Not):
            inner = self.expect(node.operand, scope, depth, BOOLEAN, "the operand of “not”").run
            return _Node(BOOLEAN, lambda env: not inner(env))
        if isinstance(node.op, ast.USub | ast.UAdd):
            operand = self.expect(node.operand, scope, depth, NUMBER, "the operand of a sign").run
            if isinstance(node.op, ast.UAdd):
                return _Node(NUMBER, operand)
            return _Node(NUMBER, lambda env: -operand(env))
        raise ExpressionError(_("the operator {operator} is not allowed"), operator="~")

    def _BinOp(self, node: ast.BinOp, scope: ScopeName, depth: int) -> _Node:
        symbol = _OPERATORS.get(type(node.op))
        if symbol is None:
            names = {ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
                     ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^"}
            raise ExpressionError(_("the operator {operator} is not allowed"),
                                  operator=names.get(type(node.op), "?"))
        what = f"each side of “{symbol}”"
        left = self.expect(node.left, scope, depth, NUMBER, what).run
        right = self.expect(node.right, scope, depth, NUMBER, what).run
        operations: dict[str, Callable[[Any, Any], Any]] = {
            "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
        }
        operation = operations[symbol]
        return _Node(NUMBER, lambda env: operation(left(env), right(env)))

    def _IfExp(self, node: ast.IfExp, scope: ScopeName, depth: int) -> _Node:
        test = self.expect(node.test, scope, depth, BOOLEAN, "the condition after “if”").run
        body = self.visit(node.body, scope, depth)
        orelse = self.visit(node.orelse, scope, depth)
        if not _compatible(body.type, orelse.type):
            raise ExpressionError(_("both branches of “if … else” must have the same type ({left}, {right})"),
                                  left=body.type.kind, right=orelse.type.kind)
        then, other = body.run, orelse.run
        return _Node(union_type([body.type, orelse.type]), lambda env: then(env) if test(env) else other(env))

    def _Compare(self, node: ast.Compare, scope: ScopeName, depth: int) -> _Node:
        left = self.visit(node.left, scope, depth)
        first = left.run
        steps: list[tuple[Callable[[Any, Any], bool], _Run]] = []
        for op, right_ast in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.Is | ast.IsNot):
                raise ExpressionError(_("“is” is not allowed; use == or !="))
            if isinstance(op, ast.In | ast.NotIn):
                right = self._membership(left, right_ast, scope, depth)
                steps.append(((lambda a, b: a in b) if isinstance(op, ast.In) else (lambda a, b: a not in b),
                              right.run))
            else:
                right = self.visit(right_ast, scope, depth)
                steps.append((self._comparison(op, left, right), right.run))
            left = right

        def run(env: Environment) -> bool:
            a = first(env)
            for test, right_run in steps:
                b = right_run(env)
                if not test(a, b):
                    return False
                a = b
            return True
        return _Node(BOOLEAN, run)

    def _comparison(self, op: ast.cmpop, left: _Node, right: _Node) -> Callable[[Any, Any], bool]:
        if isinstance(op, ast.Eq | ast.NotEq):
            if not _compatible(left.type, right.type):
                raise ExpressionError(_("cannot compare {left} with {right}"),
                                      left=left.type.kind, right=right.type.kind)
            _check_choices(left.type, right.type)
            if isinstance(op, ast.Eq):
                return lambda a, b: bool(a == b)
            return lambda a, b: bool(a != b)
        orders: dict[type, Callable[[Any, Any], bool]] = {
            ast.Lt: lambda a, b: bool(a < b), ast.LtE: lambda a, b: bool(a <= b),
            ast.Gt: lambda a, b: bool(a > b), ast.GtE: lambda a, b: bool(a >= b),
        }
        test = orders[type(op)]
        ordered = {"number", "date", "any"}
        kinds_ok = left.type.kind in ordered and right.type.kind in ordered
        if not (kinds_ok and _compatible(left.type, right.type)):
            raise ExpressionError(_("only numbers or dates can be ordered, not {left} and {right}"),
                                  left=left.type.kind, right=right.type.kind)
        return test

    def _membership(self, left: _Node, right_ast: ast.AST, scope: ScopeName, depth: int) -> _Node:
        if isinstance(right_ast, ast.List | ast.Tuple):
            items = [self.visit(e, scope, depth) for e in right_ast.elts]
            if not items or not all(i.is_constant for i in items):
                raise ExpressionError(_("the list after “in” must hold literals"))
            for item in items:
                if not _compatible(left.type, item.type):
                    raise ExpressionError(_("cannot look for {left} in a list of {right}"),
                                          left=left.type.kind, right=item.type.kind)
                _check_choices(left.type, item.type)
            values = tuple(i.constant for i in items)
            return _Node(FactType("list"), lambda env: values)
        right = self.visit(right_ast, scope, depth)
        if right.type.kind == "texts" and left.type.kind in ("text", "any"):
            return right
        if right.type.kind in ("list", "any") and left.type.kind in ("text", "number", "any"):
            return right
        raise ExpressionError(_("the right side of “in” must be a list, not {kind}"), kind=right.type.kind)

    # calls

    def _Call(self, node: ast.Call, scope: ScopeName, depth: int) -> _Node:
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(_("only the listed functions can be called: {functions}"),
                                  functions=", ".join(FUNCTIONS))
        name = node.func.id
        if name not in FUNCTIONS:
            raise ExpressionError(_("unknown function “{name}”; allowed: {functions}"),
                                  name=name, functions=", ".join(FUNCTIONS))
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise ExpressionError(_("unpacking (*) is not allowed"))
        if name in AGGREGATES:
            return self._aggregate(name, node, depth)
        if node.keywords:
            raise ExpressionError(_("{function}() takes no keyword arguments"), function=name)
        args = node.args
        if name == "param":
            return self._param(args)
        if name in ("min", "max"):
            if len(args) < 2:
                raise ExpressionError(_("{function}() needs at least two numbers"), function=name)
            runs = [self.expect(a, scope, depth, NUMBER, f"each argument of {name}()").run for a in args]
            pick: Callable[..., Any] = min if name == "min" else max
            return _Node(NUMBER, lambda env: pick(r(env) for r in runs))
        if name in ("months_between", "days_between"):
            if len(args) != 2:
                raise ExpressionError(_("{function}() needs two dates"), function=name)
            start = self.expect(args[0], scope, depth, DATE, f"the start given to {name}()").run
            end = self.expect(args[1], scope, depth, DATE, f"the end given to {name}()").run
            if name == "months_between":
                return _Node(NUMBER, lambda env: months_between(start(env), end(env)))
            return _Node(NUMBER, lambda env: (end(env) - start(env)).days)
        if len(args) != 1:
            raise ExpressionError(_("{function}() needs one number"), function=name)
        inner = self.expect(args[0], scope, depth, NUMBER, f"the argument of {name}()").run
        single: dict[str, Callable[[Any], Any]] = {"abs": abs, "floor": math.floor, "round_fen": round_fen}
        function = single[name]
        return _Node(NUMBER, lambda env: function(inner(env)))

    def _param(self, args: list[ast.expr]) -> _Node:
        if len(args) != 1 or not (isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)):
            raise ExpressionError(_("param() needs the parameter name as a quoted text"))
        name = args[0].value
        kind = ANY
        if self.parameters is not None:
            if name not in self.parameters:
                raise _unknown(_("unknown parameter “{name}”"),
                               _("unknown parameter “{name}” (did you mean “{close}”?)"),
                               name, list(self.parameters))
            kind = _PARAMETER_KINDS.get(self.parameters[name], ANY)
        self.params.add(name)
        return _Node(kind, lambda env: env.param(name))

    def _aggregate(self, name: str, node: ast.Call, depth: int) -> _Node:
        args = node.args
        if not args or not (isinstance(args[0], ast.Name) and args[0].id == "members"):
            raise ExpressionError(_("{function}() needs members as its first argument"), function=name)
        if self.in_aggregate:
            # nested loops over members would multiply: the cost of a rule must stay linear
            raise ExpressionError(_("{function}() cannot be used inside another member function"), function=name)
        self.in_aggregate = True
        try:
            return self._aggregate_members(name, node, depth)
        finally:
            self.in_aggregate = False

    def _aggregate_members(self, name: str, node: ast.Call, depth: int) -> _Node:
        rest = node.args[1:]
        value: _Run | None = None
        if name == "sum_of":
            if not rest:
                raise ExpressionError(_("sum_of() needs the value to add up for each member"))
            value = self.expect(rest[0], "member", depth, NUMBER, "the value summed by sum_of()").run
            rest = rest[1:]
        if len(rest) > 1:
            raise ExpressionError(_("{function}() takes at most one condition"), function=name)
        tests = [self.expect(a, "member", depth, BOOLEAN, f"the condition of {name}()").run for a in rest]
        for keyword in node.keywords:
            tests.append(self._filter(name, keyword, depth))
        if name in ("any_of", "all_of") and not tests:
            raise ExpressionError(_("{function}() needs a condition"), function=name)

        def selected(env: Environment) -> list[Environment]:
            return [m for m in env.members() if all(t(m) for t in tests)]

        if name == "count":
            return _Node(NUMBER, lambda env: len(selected(env)))
        if value is not None:
            add = value
            return _Node(NUMBER, lambda env: sum(add(m) for m in selected(env)))
        if name == "any_of":
            return _Node(BOOLEAN, lambda env: bool(selected(env)))
        return _Node(BOOLEAN, lambda env: len(selected(env)) == len(env.members()))

    def _filter(self, function: str, keyword: ast.keyword, depth: int) -> _Run:
        field_name = str(keyword.arg)
        if field_name not in self.schema.member:
            raise _unknown(_("unknown member fact “{name}”"),
                           _("unknown member fact “{name}” (did you mean “{close}”?)"),
                           field_name, list(self.schema.member))
        wanted = self.visit(keyword.value, "member", depth)
        if not wanted.is_constant:
            raise ExpressionError(_("{name}= in {function}() needs a literal value"),
                                  name=field_name, function=function)
        declared = self.schema.member[field_name]
        if not _compatible(declared, wanted.type):
            raise ExpressionError(_("{name}= must be {want}, not {found}"),
                                  name=field_name, want=declared.kind, found=wanted.type.kind)
        _check_choices(declared, wanted.type)
        self.names.add(f"member.{field_name}")
        constant = wanted.constant
        return lambda env: bool(env.get(field_name) == constant)


def _check_choices(a: FactType, b: FactType) -> None:
    """Two texts with choices that share none can never be equal: a misspelling."""
    if a.kind != "text" or b.kind != "text" or a.choices is None or b.choices is None:
        return
    if set(a.choices) & set(b.choices):
        return
    literal, declared = (b, a) if len(b.choices) == 1 else (a, b)
    raise ExpressionError(_("“{value}” is not one of the allowed values: {choices}"),
                          value=literal.choices[0] if literal.choices else "",
                          choices=", ".join(declared.choices or ()))
