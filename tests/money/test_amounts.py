"""Amounts as text: parsing and formatting by locale, from CLDR (app.money)."""
from decimal import Decimal

import pytest
from babel.numbers import format_currency, get_group_symbol

from app.money import (CURRENCIES, LOCALES, MAX_AMOUNT, MoneyError, default_locale, format_amount, format_input,
                       format_money, parse_amount, precision)

NNBSP, NBSP = "\u202f", "\xa0"


@pytest.mark.parametrize("text, currency, locale, minor", [
    ("19.99", "USD", "en_US", 1999),
    ("1,999.00", "USD", "en_US", 199900),
    ("1,234,567.89", "USD", "en_US", 123456789),
    ("19,99", "EUR", "de_DE", 1999),
    ("1.999,00", "EUR", "de_DE", 199900),
    ("1.999", "EUR", "de_DE", 199900),  # two decimals: a dot and three digits can only be a group
    (f"1{NNBSP}234,50", "EUR", "fr_FR", 123450),
    (f"1{NBSP}234,50", "EUR", "fr_FR", 123450),
    ("1 234 567,50", "EUR", "fr_FR", 123456750),
    ("1'234'567.50", "CHF", "de_CH", 123456750),
    ("1’234.50", "CHF", "de_CH", 123450),
    ("12,34,567.89", "INR", "en_IN", 123456789),
    ("1,00,000", "INR", "en_IN", 10000000),
    ("1,500", "JPY", "ja_JP", 1500),
    ("1500", "JPY", "ja_JP", 1500),
    ("1.999", "KWD", "en_US", 1999),
    ("1,999.000", "KWD", "en_US", 1999000),
    ("1.999,5", "KWD", "de_DE", 1999500),
    ("0.001", "KWD", "en_US", 1),
    (" 7 ", "USD", "en_US", 700),
    ("19.990", "USD", "en_US", 1999),  # zeros past the precision change nothing
])
def test_amounts_are_read_in_the_stores_locale(text, currency, locale, minor):
    assert parse_amount(text, currency, locale) == minor


@pytest.mark.parametrize("text, currency, minor", [
    ("19.99", "EUR", 1999), ("1999.00", "EUR", 199900), (".5", "USD", 50), ("1500", "JPY", 1500),
    ("1.234", "KWD", 1234), ("0", "USD", 0),
])
def test_without_a_locale_amounts_are_read_in_the_machine_form(text, currency, minor):
    assert parse_amount(text, currency) == minor


def test_precision_comes_from_cldr():
    assert (precision("USD"), precision("JPY"), precision("KWD"), precision("EUR")) == (2, 0, 3, 2)
    # A wrong exponent for KWD would give 123 or 123400 here, and refuse 1.2345 differently.
    assert parse_amount("1.234", "KWD") == 1234
    assert format_money(1234, "KWD", "en_US") == "KWD1.234"
    with pytest.raises(MoneyError, match="3 decimal places"):
        parse_amount("1.2345", "KWD")
    with pytest.raises(MoneyError, match="whole units"):
        parse_amount("15.5", "JPY", "ja_JP")


@pytest.mark.parametrize("text, currency, locale, message", [
    ("19,99", "USD", "en_US", "use a dot for decimals, like 19.99 or 1,234.50"),
    ("19.99", "EUR", "de_DE", "use a comma for decimals, like 19,99 or 1.234,50"),
    ("19,99", "EUR", None, "dot for decimals and no thousands separators, like 19.99"),
    ("1,999.00", "USD", None, "no thousands separators"),
    ("1,234,567.89", "INR", "en_IN", "like 19.99 or 1,234.50"),  # en_IN groups in lakhs
    ("12,34,567.89", "USD", "en_US", "use a dot for decimals"),
    ("1,23", "USD", "en_US", "use a dot for decimals"),
    ("0,999", "USD", "en_US", "use a dot for decimals"),
    ("1'23.50", "CHF", "de_CH", "use a dot for decimals, like 19.99 or 1'234.50"),
    ("1 234,50", "EUR", "de_DE", "use a comma for decimals"),
    ("1,999", "KWD", "en_US", "could be read two ways in KWD, which has three decimals: write 1,999.000 or 1.999"),
    ("1.999", "KWD", "de_DE", "could be read two ways in KWD, which has three decimals: write 1.999,000 or 1,999"),
    ("19.99", "JPY", "de_DE", "JPY has no decimals; write whole amounts, like 19 or 1.234"),
    ("4.999", "USD", "en_US", "more precision than USD allows (2 decimal places)"),
    ("-3", "USD", None, "prices cannot be negative"),
    ("−3", "USD", "en_US", "prices cannot be negative"),
    ("3-", "EUR", "de_DE", "prices cannot be negative"),
    ("abc", "USD", "en_US", "is not an amount"),
    ("$19.99", "USD", "en_US", "is not an amount"),
    ("19.99 USD", "USD", "en_US", "is not an amount"),
    ("1e3", "USD", None, "is not an amount"),
    ("NaN", "USD", None, "is not an amount"),
    ("5.", "USD", None, "is not an amount"),
    ("1\x002", "USD", None, "is not an amount"),
    ("19,99", "EUR", "xx_YY", "not an amount format we know"),
])
def test_bad_amounts_are_refused_with_the_expected_form(text, currency, locale, message):
    with pytest.raises(MoneyError) as refused:
        parse_amount(text, currency, locale)
    assert message in str(refused.value)


@pytest.mark.parametrize("text", ["²", "1²", "١٢٣", "１２３", "٣٫٥", "Ⅻ", "½"])
@pytest.mark.parametrize("locale", [None, "en_US", "de_DE"])
def test_digits_other_than_ascii_are_refused(text, locale):
    with pytest.raises(MoneyError, match="not one of the digits 0–9"):
        parse_amount(text, "USD", locale)


@pytest.mark.parametrize("locale", [None, "en_US", "de_DE"])
def test_amounts_past_the_maximum_are_refused(locale):
    largest = format_input(MAX_AMOUNT, "USD", locale)
    assert parse_amount(largest, "USD", locale) == MAX_AMOUNT
    for text in ("99999999999999999999", format_input(MAX_AMOUNT + 1, "USD", locale), "1" * 19):
        with pytest.raises(MoneyError, match="more than the largest amount"):
            parse_amount(text, "USD", locale)
    with pytest.raises(MoneyError, match="too long"):
        parse_amount("9" * 5000, "USD", locale)
    assert MAX_AMOUNT * 9000 < 2**63 - 1  # room in BIGINT for totals of many lines


@pytest.mark.parametrize("minor, currency, locale, shown, typed", [
    (199900, "USD", "en_US", "$1,999.00", "1,999.00"),
    (199900, "EUR", "de_DE", f"1.999,00{NBSP}€", "1.999,00"),
    (123450, "EUR", "fr_FR", f"1{NNBSP}234,50{NBSP}€", f"1{NNBSP}234,50"),
    (123456750, "CHF", "de_CH", f"CHF{NBSP}1'234'567.50", "1'234'567.50"),
    (123456789, "INR", "en_IN", "₹12,34,567.89", "12,34,567.89"),
    (1500, "JPY", "ja_JP", "￥1,500", "1,500"),
    (1999500, "KWD", "de_DE", f"1.999,500{NBSP}KWD", "1.999,500"),
    (5, "USD", "en_US", "$0.05", "0.05"),
])
def test_amounts_are_shown_in_the_stores_locale(minor, currency, locale, shown, typed):
    assert format_money(minor, currency, locale) == shown
    assert format_input(minor, currency, locale) == typed
    assert parse_amount(typed, currency, locale) == minor


def test_the_machine_form_has_a_dot_and_no_grouping():
    assert (format_amount(199900, "EUR"), format_amount(1500, "JPY"), format_amount(1999, "KWD")) == (
        "1999.00", "1500", "1.999")
    assert format_amount(None, "USD") == format_input(None, "USD", "de_DE") == format_money(None, "USD", "en_US") == ""


AMOUNTS = [0, 1, 5, 99, 1000, 1999, 123456, 100000000, 123456789012, MAX_AMOUNT]


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_display_matches_babels_format_currency(locale):
    """Same CLDR pattern, symbol and separators as Babel's format_currency;
    for apostrophe-grouping locales (de_CH) Babel takes pairs of group
    separators for quotes and drops them, so the groups are left out there."""
    apostrophe = get_group_symbol(locale) == "'"
    for currency in ("USD", "EUR", "JPY", "KWD", "INR", "CHF"):
        for minor in AMOUNTS:
            babel = format_currency(Decimal(minor).scaleb(-precision(currency)), currency, locale=locale)
            ours = format_money(minor, currency, locale)
            if apostrophe:  # Babel keeps a lone group but drops pairs of them as quotes
                ours, babel = ours.replace("'", ""), babel.replace("'", "")
            assert ours == babel


@pytest.mark.parametrize("locale", [None, *sorted(LOCALES)])
def test_every_locale_reads_back_what_it_writes(locale):
    for currency in ("USD", "EUR", "JPY", "KWD", "INR", "CHF", "HUF"):
        for minor in AMOUNTS:
            assert parse_amount(format_input(minor, currency, locale), currency, locale) == minor


def test_currencies_come_from_cldr_and_keep_the_ones_we_offered():
    earlier = ("AED ARS AUD BGN BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR ISK JPY KES KRW "
               "KWD MAD MXN MYR NGN NOK NZD PEN PHP PKR PLN RON SAR SEK SGD THB TRY TWD UAH USD VND ZAR").split()
    assert set(earlier) <= set(CURRENCIES)
    assert CURRENCIES["KWD"] == "Kuwaiti Dinar" and CURRENCIES["GBP"] == "British Pound"
    assert {"XOF", "GHS", "QAR"} <= set(CURRENCIES)  # in use today, from CLDR
    assert not {"DEM", "FRF", "XXX", "XAU", "XTS"} & set(CURRENCIES)  # retired, or not money


@pytest.mark.parametrize("currency, locale", [
    ("USD", "en_US"), ("GBP", "en_GB"), ("JPY", "ja_JP"), ("CHF", "de_CH"), ("INR", "en_IN"),
    ("EUR", "en_US"), ("BGN", "en_US"),
])
def test_a_new_store_starts_in_the_locale_of_its_currency(currency, locale):
    assert default_locale(currency) == locale
