"""Money: the currencies a store can sell in, and amounts as text, from CLDR
(through Babel).

Amounts are always integers in minor units (cents, pence, yen, fils) plus an
ISO 4217 code; a currency's precision (how many minor-unit digits) is CLDR's.
Text is turned into minor units with string and integer arithmetic only,
never through float.

Two text forms:
- the machine form (`locale=None`): digits, an optional dot and decimals, no
  grouping, no symbol. CSV files, the JSON API and seeds use it.
- a locale's form (`locale="de_DE"`): that locale's decimal and group
  symbols and grouping sizes (CLDR), no symbol. Dashboard inputs are
  pre-filled with it and read back in it. Display (`format_money`) adds the
  currency symbol where the locale's currency pattern puts it.

What parsing accepts (anything else is a MoneyError with a message saying
what to type instead):
- ASCII digits only: "²", "١٢٣" or full-width "１２３" are refused, not
  normalised, so what is stored is always what the merchant saw.
- Group separators only in valid groups for the locale (en_IN 12,34,567;
  de_CH 1'234'567, either apostrophe; fr_FR 1 234 567 with a narrow
  no-break, no-break or plain space). A lone "." or "," group followed by
  exactly three digits in a three-decimal currency (KWD "1,999") could be a
  decimal point, so it is refused as ambiguous.
- Never negative; at most MAX_AMOUNT minor units.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cache, lru_cache

from babel import Locale
from babel.core import get_global
from babel.numbers import (get_currency_name, get_currency_precision, get_currency_symbol, get_decimal_symbol,
                           get_group_symbol, get_territory_currencies)

# At most 10^15 - 1 minor units ($9,999,999,999,999.99; ¥999,999,999,999,999):
# BIGINT holds about 9.2 * 10^18, which leaves room for totals of many
# lines of the largest price before anything could overflow.
MAX_AMOUNT = 10**15 - 1
MAX_TEXT = 64  # characters; the largest amount, grouped, is far shorter

# The currencies we offered before CLDR picked them; BGN stays for Bulgarian
# stores although CLDR retired it when Bulgaria adopted the euro.
EARLIER_CURRENCIES = frozenset("""
    AED ARS AUD BGN BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR ISK JPY KES KRW
    KWD MAD MXN MYR NGN NOK NZD PEN PHP PKR PLN RON SAR SEK SGD THB TRY TWD UAH USD VND ZAR
""".split())

# Locales a store can show and take amounts in: common ones, each known to CLDR.
LOCALE_CODES = (
    "en_US", "en_GB", "en_CA", "en_AU", "en_NZ", "en_IE", "en_IN", "en_SG", "en_ZA", "en_AE",
    "de_DE", "de_AT", "de_CH", "fr_FR", "fr_BE", "fr_CA", "fr_CH", "it_IT", "it_CH",
    "es_ES", "es_MX", "es_AR", "es_CO", "es_CL", "es_US", "pt_BR", "pt_PT", "nl_NL", "nl_BE",
    "da_DK", "sv_SE", "nb_NO", "fi_FI", "is_IS", "pl_PL", "cs_CZ", "sk_SK", "hu_HU", "ro_RO", "bg_BG",
    "el_GR", "hr_HR", "sl_SI", "et_EE", "lv_LV", "lt_LT", "tr_TR", "ru_RU", "uk_UA",
    "ja_JP", "ko_KR", "zh_CN", "zh_TW", "zh_HK", "th_TH", "vi_VN", "id_ID", "ms_MY", "fil_PH", "hi_IN",
    "he_IL", "ar_AE", "ar_SA", "ar_EG",
)
DEFAULT_LOCALE = "en_US"
LOCALES: dict[str, str] = {code: Locale.parse(code).get_display_name("en") for code in LOCALE_CODES}

_ASCII_DIGITS = frozenset("0123456789")
_MINUS = frozenset("-\u2212\u2012\u2013")  # hyphen-minus, minus sign, figure and en dashes
# Characters people type for a locale's group separator: any space for a
# space, either apostrophe for an apostrophe.
_SPACES = "\u0020\u00a0\u202f\u2009"
_APOSTROPHES = "'\u2019"


class MoneyError(ValueError):
    """Text that is not an amount this store takes; the message says what to type."""


def _tendered_today() -> dict[str, list[str]]:
    """Currency -> the territories whose legal tender it is today (CLDR)."""
    today, used = date.today(), {}
    for territory in get_global("territory_currencies"):
        for code in get_territory_currencies(territory, today, tender=True):
            used.setdefault(code, []).append(territory)
    return used


_TENDER = _tendered_today()
CURRENCIES: dict[str, str] = {code: get_currency_name(code, locale="en")
                              for code in sorted(set(_TENDER) | EARLIER_CURRENCIES)}


def is_currency(code: str) -> bool:
    return code in CURRENCIES


def is_locale(code: str) -> bool:
    return code in LOCALES


@lru_cache(maxsize=512)
def precision(currency: str) -> int:
    """How many minor-unit digits the currency has (CLDR): USD 2, JPY 0, KWD 3."""
    return get_currency_precision(currency)


def default_locale(currency: str) -> str:
    """A new store's locale: the listed locale of the one country that uses
    this currency (GBP -> en_GB, JPY -> ja_JP, CHF -> de_CH, INR -> en_IN);
    where listed countries share it (EUR) or none uses it, en_US."""
    territories = set(_TENDER.get(currency, ()))
    matches = [code for code in LOCALE_CODES if Locale.parse(code).territory in territories]
    if matches and len({Locale.parse(code).territory for code in matches}) == 1:
        return matches[0]
    return DEFAULT_LOCALE


# -- writing ----------------------------------------------------------------

def format_amount(minor: int | None, currency: str) -> str:
    """Machine form: 1999 USD -> '19.99', 1500 JPY -> '1500' (CSV, seeds)."""
    return format_input(minor, currency, None)


def format_input(minor: int | None, currency: str, locale: str | None) -> str:
    """What an input is pre-filled with: no symbol, the locale's separators,
    every decimal shown. 199900 EUR de_DE -> '1.999,00'; locale None -> '1999.00'."""
    if minor is None:
        return ""
    places = precision(currency)
    whole, fraction = divmod(abs(minor), 10**places)
    decimal, group, grouping = _symbols(locale)
    text = _grouped(str(whole), group, grouping)
    if places:
        text += decimal + f"{fraction:0{places}d}"
    return ("-" if minor < 0 else "") + text


def format_money(minor: int | None, currency: str, locale: str) -> str:
    """For people: 199900 EUR de_DE -> '1.999,00 €', en_US -> '€1,999.00'.

    The locale's CLDR currency pattern, symbol and separators, as Babel's
    format_currency gives them; built here from the same CLDR data because
    format_currency reads an apostrophe group separator (de_CH 1'234'567)
    as a quoted literal and drops it."""
    if minor is None:
        return ""
    prefix, suffix = _affixes(currency, locale)[int(minor < 0)]
    return prefix + format_input(abs(minor), currency, locale) + suffix


@lru_cache(maxsize=1024)  # (a store's currency, its locale): a storefront page formats dozens of prices
def _affixes(currency: str, locale: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The (prefix, suffix) of positive and of negative amounts: the locale's
    CLDR currency pattern's, with the currency's symbol in it."""
    pattern = Locale.parse(locale).currency_formats["standard"]
    symbol = get_currency_symbol(currency, locale)
    prefix, suffix = ([_unquote(part).replace("¤", symbol) for part in parts] for parts in (pattern.prefix,
                                                                                          pattern.suffix))
    return (prefix[0], suffix[0]), (prefix[1], suffix[1])


def _unquote(text: str) -> str:
    """A pattern's quoted literal text: 'x' -> x, '' -> '."""
    return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", text)


@cache
def _symbols(locale: str | None) -> tuple[str, str, tuple[int, int]]:
    """(decimal symbol, group symbol, (primary, secondary) group sizes); the
    machine form has no group symbol."""
    if locale is None:
        return ".", "", (3, 3)
    if not is_locale(locale):
        raise MoneyError(f"“{locale}” is not an amount format we know; reload the page and try again.")
    return get_decimal_symbol(locale), get_group_symbol(locale), \
        Locale.parse(locale).currency_formats["standard"].grouping


def _grouped(digits: str, group: str, grouping: tuple[int, int]) -> str:
    if not group:
        return digits
    size, parts = grouping[0], []
    while len(digits) > size:
        parts.insert(0, digits[-size:])
        digits, size = digits[:-size], grouping[1]
    return group.join([digits, *parts])


# -- reading ----------------------------------------------------------------

def parse_amount(text: str | int, currency: str, locale: str | None = None) -> int:
    """Minor units from text in `locale`'s form (None: the machine form).

    '19.99' USD -> 1999; '1.999,00' EUR de_DE -> 199900; '1500' JPY -> 1500.
    Raises MoneyError with a message that shows the expected form."""
    raw = str(text).strip()
    places = precision(currency)
    _symbols(locale)  # an unknown locale is refused before anything else
    if len(raw) > MAX_TEXT:
        raise MoneyError(f"That amount is too long; the largest is {format_input(MAX_AMOUNT, currency, locale)}.")
    odd = next((c for c in raw if c not in _ASCII_DIGITS and unicodedata.category(c) in ("Nd", "No", "Nl")), None)
    if odd is not None:
        raise MoneyError(f"“{text}” contains “{odd}”, which is not one of the digits 0–9; "
                         "type amounts with the digits 0–9.")
    if raw[:1] in _MINUS or raw[-1:] in _MINUS:
        raise MoneyError(f"“{text}” is not an amount we take: prices cannot be negative.")
    whole, fraction = _split(raw, currency, locale)
    if len(fraction) > places:
        fraction = fraction.rstrip("0").ljust(places, "0")  # 19.990 is 19.99
    if len(fraction) > places:
        unit = "whole units" if places == 0 else f"{places} decimal places"
        raise MoneyError(f"“{text}” has more precision than {currency} allows ({unit}).")
    whole = whole.lstrip("0")
    minor = int(whole or "0") * 10**places + int(fraction.ljust(places, "0") or "0")
    if minor > MAX_AMOUNT:
        raise MoneyError(f"“{text}” is more than the largest amount we take, "
                         f"{format_input(MAX_AMOUNT, currency, locale)}.")
    return minor


def _split(raw: str, currency: str, locale: str | None) -> tuple[str, str]:
    """The whole and fraction digits of `raw`, its group separators checked."""
    decimal, group, grouping = _symbols(locale)
    typed_groups = _group_characters(group)
    whole, point, fraction = "".join(group if c in typed_groups else c for c in raw).partition(decimal)
    groups = whole.split(group) if group else [whole]
    digits = "".join(groups)
    if not set(digits + fraction) <= _ASCII_DIGITS or not (digits or fraction) or (point and not fraction) \
            or (len(groups) > 1 and not _valid_groups(groups, grouping)):
        raise MoneyError(_expected_form(raw, currency, locale))
    if not point and len(groups) == 2 and precision(currency) == 3 and group in (".", ","):
        raise MoneyError(f"“{raw}” could be read two ways in {currency}, which has three decimals: write "
                         f"{format_input(int(digits) * 1000, currency, locale)} or "
                         f"{format_input(int(digits), currency, locale)}.")
    return digits, fraction


def _group_characters(group: str) -> str:
    if not group:
        return ""
    if group in _SPACES:
        return _SPACES
    if group in _APOSTROPHES:
        return _APOSTROPHES
    return group


def _valid_groups(groups: list[str], grouping: tuple[int, int]) -> bool:
    """1,234,567 (3, 3) and 12,34,567 (3, 2): the last group has the primary
    size, the ones before it the secondary size, the first 1 to that many
    digits and no leading zero."""
    primary, secondary = grouping
    first, *middle, last = groups
    return (1 <= len(first) <= secondary and not first.startswith("0") and len(last) == primary
            and all(len(part) == secondary for part in middle))


def _expected_form(raw: str, currency: str, locale: str | None) -> str:
    places = precision(currency)
    small, large = (format_input(sample * 10**places // 100, currency, locale) for sample in (1999, 123450))
    if locale is None:
        return (f"“{raw}” is not an amount: use digits with a dot for decimals and no thousands separators, "
                f"like {small} or {large}.")
    decimal = _symbols(locale)[0]
    if places == 0:
        return f"“{raw}” is not an amount: {currency} has no decimals; write whole amounts, like {small} or {large}."
    name = {".": "a dot", ",": "a comma"}.get(decimal, f"“{decimal}”")
    return f"“{raw}” is not an amount: use {name} for decimals, like {small} or {large}."
