"""EventBridge event patterns (as used by a pipe's FilterCriteria), for the subset a template may use.

A pattern is a JSON object whose leaves are lists of accepted values. An accepted value is an exact
value (string, number, boolean, null) or one of: ``{"prefix": s}``, ``{"suffix": s}``,
``{"equals-ignore-case": s}``, ``{"wildcard": s}``, ``{"exists": bool}``, ``{"numeric": [op, n, ...]}``,
``{"anything-but": value | [values] | {"prefix": s} | {"suffix": s}}``. Anything else is refused when
the pattern is compiled, so a template that needs more fails loudly at start, not silently later.
"""

from __future__ import annotations

import fnmatch
import operator
from typing import Any

_MISSING = object()
_NUMERIC = {"<": operator.lt, "<=": operator.le, "=": operator.eq, ">": operator.gt, ">=": operator.ge}
_OPERATORS = {"prefix", "suffix", "equals-ignore-case", "wildcard", "exists", "numeric", "anything-but"}


class PatternError(ValueError):
    pass


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equal(value: Any, expected: Any) -> bool:
    if _is_number(expected) or _is_number(value):
        return _is_number(value) and _is_number(expected) and float(value) == float(expected)
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value is expected
    return value == expected


def validate(pattern: Any, path: str = "") -> None:
    if not isinstance(pattern, dict) or not pattern:
        raise PatternError(f"pattern{path} must be a non-empty object")
    for name, rule in pattern.items():
        where = f"{path}.{name}"
        if isinstance(rule, dict):
            validate(rule, where)
        elif isinstance(rule, list):
            if not rule:
                raise PatternError(f"pattern{where} is an empty list")
            for accepted in rule:
                if isinstance(accepted, dict):
                    if len(accepted) != 1 or next(iter(accepted)) not in _OPERATORS:
                        raise PatternError(f"pattern{where}: unsupported matcher {accepted}")
                    (kind, argument), = accepted.items()
                    if kind == "numeric":
                        if not isinstance(argument, list) or len(argument) % 2 or not all(
                                op in _NUMERIC and _is_number(number)
                                for op, number in zip(argument[::2], argument[1::2])):
                            raise PatternError(f"pattern{where}: bad numeric matcher {argument}")
                    if kind == "anything-but" and isinstance(argument, dict) and (
                            len(argument) != 1 or next(iter(argument)) not in ("prefix", "suffix")):
                        raise PatternError(f"pattern{where}: unsupported anything-but {argument}")
                elif isinstance(accepted, list):
                    raise PatternError(f"pattern{where}: nested lists are not a pattern")
        else:
            raise PatternError(f"pattern{where} must be an object or a list")


def _one(accepted: Any, value: Any) -> bool:
    """Does a single present value (never a list) satisfy one accepted value (never ``exists``)?"""
    if not isinstance(accepted, dict):
        return _equal(value, accepted)
    (kind, argument), = accepted.items()
    if kind == "prefix":
        return isinstance(value, str) and value.startswith(argument)
    if kind == "suffix":
        return isinstance(value, str) and value.endswith(argument)
    if kind == "equals-ignore-case":
        return isinstance(value, str) and value.casefold() == str(argument).casefold()
    if kind == "wildcard":
        return isinstance(value, str) and fnmatch.fnmatchcase(value, str(argument).replace("[", "[[]"))
    if kind == "numeric":
        return _is_number(value) and all(_NUMERIC[op](value, number)
                                         for op, number in zip(argument[::2], argument[1::2]))
    if kind == "anything-but":
        if isinstance(argument, dict):
            return not _one(argument, value)
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_equal(value, item) for item in excluded)
    raise PatternError(f"unsupported matcher {accepted}")


def _leaf(rules: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for accepted in rules:
        if isinstance(accepted, dict) and "exists" in accepted:
            present = value is not _MISSING and not (isinstance(value, list) and not value)
            if present == bool(accepted["exists"]):
                return True
        elif value is not _MISSING and any(_one(accepted, item) for item in values):
            return True
    return False


def matches(pattern: dict[str, Any], event: Any) -> bool:
    for name, rule in pattern.items():
        value = event.get(name, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(rule, dict):
            if not matches(rule, value if isinstance(value, dict) else {}):
                return False
        elif not _leaf(rule, value):
            return False
    return True


def matches_any(patterns: list[dict[str, Any]], event: Any) -> bool:
    """A pipe's filters are alternatives; no filter at all lets everything through."""
    return not patterns or any(matches(pattern, event) for pattern in patterns)
