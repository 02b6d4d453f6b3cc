"""The company's own codes: which kind of thing a code that is no GTIN names, from its shape.

Bins, totes, carts, operator badges, order and pick-list numbers and RMA numbers are printed by
the company, so their shape is the company's choice; the station settings list it per kind
(``[codes]``: prefixes such as ``"SO-"``, or regular expressions starting with ``^``). A code
is matched against them before it is looked up, so:

- the look-up only asks the tables that kind lives in;
- a code that is no GTIN and fits no kind is refused with words that say so, instead of a
  vague "unknown code" (``unmatched = "look-up"`` looks it up anyway).

The kinds are tried in a fixed order (order, tote, location, cart, operator, rma, package,
product); the first that fits wins. Matching ignores case. No database here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from app.domain.errors import ConfigError

if TYPE_CHECKING:
    from app.config import CodesConfig
    from app.scanning.weights import ScaleLayouts

_WORDS = {
    "order": "orders",
    "tote": "totes",
    "location": "bins",
    "cart": "carts",
    "operator": "badges",
    "rma": "RMAs",
    "package": "packages",
    "product": "products",
}
_SETTING = "fix it under [codes] in the station settings"


@dataclass(frozen=True, slots=True)
class CodeRule:
    kind: str
    pattern: str
    """As configured: a prefix, or a regular expression starting with ``^``."""
    prefix: str | None
    """Upper-cased prefix, or None for a regular expression."""
    regex: re.Pattern[str] | None

    def matches(self, upper: str, text: str) -> bool:
        if self.prefix is not None:
            return upper.startswith(self.prefix)
        assert self.regex is not None
        return self.regex.match(text) is not None


class CodeRules:
    """The station's rules, compiled once."""

    __slots__ = ("reject_unmatched", "rules")

    def __init__(self, rules: tuple[CodeRule, ...], *, reject_unmatched: bool = True) -> None:
        self.rules = rules
        self.reject_unmatched = reject_unmatched

    @classmethod
    def from_config(cls, codes: CodesConfig) -> CodeRules:
        """Compile ``[codes]``; a ConfigError says which pattern is wrong and why."""
        from app.config import CODE_KINDS

        if codes.unmatched not in ("reject", "look-up"):
            msg = f"[codes] unmatched = {codes.unmatched!r} must be reject or look-up — {_SETTING}."
            raise ConfigError(msg)
        rules = []
        for kind in CODE_KINDS:
            for pattern in getattr(codes, kind):
                rules.append(_compile(kind, pattern))
        return cls(tuple(rules), reject_unmatched=codes.unmatched == "reject")

    def kind_of(self, text: str) -> str | None:
        """The kind of thing ``text`` names by its shape, or None if it fits no rule."""
        upper = text.upper()
        for rule in self.rules:
            if rule.matches(upper, text):
                return rule.kind
        return None

    def unmatched_message(self, text: str) -> str:
        """Words for a code that is neither a GTIN nor any of the company's own codes."""
        return (
            f"{text} is not a product number (GTIN) and not one of this company's own codes "
            f"({self.describe()}) — check that you scanned the right label. If it is a code "
            "of the company's, a supervisor can add its pattern under [codes] in the station "
            "settings."
        )

    def describe(self) -> str:
        """``orders SO-…, PL-…; totes T-…; bins; …``: the kinds, with their prefixes."""
        parts: list[str] = []
        for kind, words in _WORDS.items():
            rules = [r for r in self.rules if r.kind == kind]
            if not rules:
                continue
            prefixes = [f"{r.pattern}…" for r in rules if r.prefix is not None]
            parts.append(f"{words} {', '.join(prefixes)}" if prefixes else words)
        return "; ".join(parts)


def _compile(kind: str, pattern: str) -> CodeRule:
    if not isinstance(pattern, str) or not pattern.strip():
        msg = f"A pattern for {_WORDS[kind]} under [codes] is empty — {_SETTING}."
        raise ConfigError(msg)
    if not pattern.startswith("^"):
        return CodeRule(kind, pattern, pattern.upper(), None)
    try:
        regex = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        msg = (
            f"The pattern {pattern!r} for {_WORDS[kind]} under [codes] is not a valid regular "
            f"expression ({exc}) — {_SETTING}."
        )
        raise ConfigError(msg) from exc
    return CodeRule(kind, pattern, None, regex)


@cache
def default_rules() -> CodeRules:
    """The rules of a station with no ``[codes]`` of its own (they fit the demo data)."""
    from app.config import CodesConfig

    return CodeRules.from_config(CodesConfig())


@dataclass(frozen=True, slots=True)
class StationCodes:
    """What a station knows about codes beyond GS1: its code rules and scale label layouts."""

    rules: CodeRules
    scale: ScaleLayouts

    @classmethod
    def from_config(cls, codes: CodesConfig) -> StationCodes:
        from app.scanning.weights import ScaleLayouts

        return cls(CodeRules.from_config(codes), ScaleLayouts.from_config(codes.scale))


@cache
def default_codes() -> StationCodes:
    """The codes of a station with no ``[codes]`` of its own."""
    from app.config import CodesConfig

    return StationCodes.from_config(CodesConfig())
