"""ISO 4217 currencies a store can sell in, with their minor-unit exponent.

Amounts are always integers in minor units (cents, pence, yen) plus one of
these codes; the exponent says how many decimal places a display needs.
"""
from __future__ import annotations

CURRENCIES: dict[str, tuple[str, int]] = {
    "AED": ("UAE dirham", 2), "ARS": ("Argentine peso", 2), "AUD": ("Australian dollar", 2),
    "BGN": ("Bulgarian lev", 2), "BRL": ("Brazilian real", 2), "CAD": ("Canadian dollar", 2),
    "CHF": ("Swiss franc", 2), "CLP": ("Chilean peso", 0), "CNY": ("Chinese yuan", 2),
    "COP": ("Colombian peso", 2), "CZK": ("Czech koruna", 2), "DKK": ("Danish krone", 2),
    "EGP": ("Egyptian pound", 2), "EUR": ("Euro", 2), "GBP": ("Pound sterling", 2),
    "HKD": ("Hong Kong dollar", 2), "HUF": ("Hungarian forint", 2), "IDR": ("Indonesian rupiah", 2),
    "ILS": ("Israeli new shekel", 2), "INR": ("Indian rupee", 2), "ISK": ("Icelandic krona", 0),
    "JPY": ("Japanese yen", 0), "KES": ("Kenyan shilling", 2), "KRW": ("South Korean won", 0),
    "KWD": ("Kuwaiti dinar", 3), "MAD": ("Moroccan dirham", 2), "MXN": ("Mexican peso", 2),
    "MYR": ("Malaysian ringgit", 2), "NGN": ("Nigerian naira", 2), "NOK": ("Norwegian krone", 2),
    "NZD": ("New Zealand dollar", 2), "PEN": ("Peruvian sol", 2), "PHP": ("Philippine peso", 2),
    "PKR": ("Pakistani rupee", 2), "PLN": ("Polish zloty", 2), "RON": ("Romanian leu", 2),
    "SAR": ("Saudi riyal", 2), "SEK": ("Swedish krona", 2), "SGD": ("Singapore dollar", 2),
    "THB": ("Thai baht", 2), "TRY": ("Turkish lira", 2), "TWD": ("New Taiwan dollar", 2),
    "UAH": ("Ukrainian hryvnia", 2), "USD": ("US dollar", 2), "VND": ("Vietnamese dong", 0),
    "ZAR": ("South African rand", 2),
}


def is_currency(code: str) -> bool:
    return code in CURRENCIES


class MoneyError(ValueError):
    """An amount that is not a non-negative number of the currency's minor units."""


def exponent(currency: str) -> int:
    return CURRENCIES[currency][1]


def parse_amount(text: str | int, currency: str) -> int:
    """'19.99' USD -> 1999; '1500' JPY -> 1500. Decimal strings only, never floats."""
    raw = str(text).strip().replace(",", "")
    places = exponent(currency)
    whole, dot, fraction = raw.partition(".")
    if not whole.isdigit() and not (whole == "" and dot and fraction.isdigit()):
        raise MoneyError(f"“{text}” is not an amount; use digits like 19.99.")
    if dot and not fraction.isdigit():
        raise MoneyError(f"“{text}” is not an amount; use digits like 19.99.")
    fraction = fraction.rstrip("0") if len(fraction) > places else fraction
    if len(fraction) > places:
        unit = "whole units" if places == 0 else f"{places} decimal places"
        raise MoneyError(f"“{text}” has more precision than {currency} allows ({unit}).")
    return int(whole or "0") * 10**places + int(fraction.ljust(places, "0") or "0")


def format_amount(minor: int | None, currency: str) -> str:
    """1999 USD -> '19.99' (no symbol: for inputs and CSV)."""
    if minor is None:
        return ""
    places = exponent(currency)
    if places == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}"
