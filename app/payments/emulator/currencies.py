"""Currencies a Stripe test account takes, with the minimum charge amount
Stripe documents for each (in minor units) and its maximum."""
from __future__ import annotations

from app.payments.emulator.errors import invalid

# Stripe's documented minimums, in the currency's minor unit.
MINIMUMS = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500, "dkk": 250,
    "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300,
    "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000,
}
OTHERS = ["ars", "clp", "cny", "cop", "egp", "idr", "ils", "isk", "krw", "kes", "mad", "ngn", "php", "pkr",
          "qar", "sar", "try", "twd", "uah", "vnd", "zar"]
SUPPORTED = {**MINIMUMS, **{code: 50 for code in OTHERS}}
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf",
                "xof", "xpf"}
MAXIMUM = 99_999_999  # eight digits of the minor unit, as Stripe caps a charge
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "aud": "$", "cad": "$", "nzd": "$", "sgd": "$",
           "hkd": "$", "mxn": "$", "chf": "CHF ", "inr": "₹"}


def currency(name: str, raw) -> str:
    if not isinstance(raw, str) or raw.lower() not in SUPPORTED:
        shown = raw if isinstance(raw, str) else ""
        raise invalid(f"Invalid currency: {shown[:20].lower()}. Stripe currently supports these currencies: "
                      f"{', '.join(sorted(SUPPORTED))}", param=name)
    return raw.lower()


def shown(amount: int, code: str) -> str:
    """`$0.50`, `£0.30`, `¥50`: how Stripe writes an amount in its messages."""
    symbol = SYMBOLS.get(code, code.upper() + " ")
    if code in ZERO_DECIMAL:
        return f"{symbol}{amount:,}"
    return f"{symbol}{amount // 100:,}.{amount % 100:02d}"


def check_amount(amount: int, code: str, param: str = "amount") -> None:
    minimum = SUPPORTED[code]
    if amount < minimum:
        raise invalid(f"Amount must be at least {shown(minimum, code)} {code}", param=param, code="amount_too_small")
    if amount > MAXIMUM:
        raise invalid(f"Amount must be no more than {shown(MAXIMUM, code)}", param=param, code="amount_too_large")
