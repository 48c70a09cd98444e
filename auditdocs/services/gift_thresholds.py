"""The values from which a gift, hospitality or donation needs approval, one per currency (ISO 37001 8.7).

Why append-only: a gift is judged against the threshold in force when it is recorded, and that judgement
(`requires_approval`) is stored in its revision; changing a threshold adds a row (who, when, why) and never rewrites
the entries already recorded. A currency without a threshold means every gift in it needs approval.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..db import advisory_lock
from ..extensions import db
from ..models import GiftThreshold, User
from ..policy import scope_of
from ..timeutil import utcnow
from . import Forbidden, audit
from .programme import Problems

ACTION = "gift_threshold.set"
CURRENCY = re.compile(r"[A-Z]{3}")
AMOUNT_MAX = Decimal("999999999999.99")  # Numeric(14, 2)
CENT = Decimal("0.01")
NOTE_MAX = 2000
_PG_LOCK = 0x47544852  # "GTHR": the thresholds are changed one at a time


def currency_code(text: str | None) -> str:
    """A currency as stored: upper case, no spaces ("pen " is "PEN")."""
    return (text or "").strip().upper()


def check_currency(problems: Problems, name: str, text: str | None) -> str | None:
    """An ISO 4217 code: three letters."""
    code = currency_code(text)
    if not code:
        problems.add(name, _l("Enter the currency (ISO 4217 code, e.g. PEN or USD)."))
        return None
    if not CURRENCY.fullmatch(code):
        problems.add(name, _l("A currency is three letters (ISO 4217), e.g. PEN or USD."))
        return None
    return code


def check_amount(problems: Problems, name: str, value: Decimal | str | None, required: object) -> Decimal | None:
    """An amount of money: zero or more, at most two decimals."""
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.add(name, required)
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        problems.add(name, _l("Enter an amount such as 150 or 150.50."))
        return None
    if not amount.is_finite():
        problems.add(name, _l("Enter an amount such as 150 or 150.50."))
    elif amount < 0:
        problems.add(name, _l("Enter an amount of zero or more."))
    elif amount > AMOUNT_MAX:
        problems.add(name, _l("The amount is too large."))
    elif amount != amount.quantize(CENT):
        problems.add(name, _l("At most two decimals."))
    else:
        return amount.quantize(CENT)
    return None


def in_force(currency: str) -> GiftThreshold | None:
    """The threshold in force for a currency: its newest row (None: the currency has none)."""
    return db.session.scalar(select(GiftThreshold).where(GiftThreshold.currency == currency_code(currency))
                             .order_by(GiftThreshold.id.desc()).limit(1))


def all_in_force() -> list[GiftThreshold]:
    """The threshold in force for each currency that has one, by currency."""
    newest = select(func.max(GiftThreshold.id)).group_by(GiftThreshold.currency)
    return list(db.session.scalars(select(GiftThreshold).where(GiftThreshold.id.in_(newest))
                                   .order_by(GiftThreshold.currency)))


def changes() -> list[GiftThreshold]:
    """Every threshold ever set, the newest first (the page's history)."""
    return list(db.session.scalars(select(GiftThreshold).order_by(GiftThreshold.id.desc())))


def needs_approval(value: Decimal, currency: str) -> bool:
    """A gift needs approval when its value reaches its currency's threshold, or the currency has none."""
    threshold = in_force(currency)
    return threshold is None or value >= threshold.amount


def set_threshold(currency: str | None, amount: Decimal | str | None, note: str | None, *,
                  actor: User) -> tuple[GiftThreshold, bool]:
    """Set the threshold of a currency (administrators; 403 otherwise): a new row, audited; returns the row in
    force and whether it changed (the same amount again adds nothing)."""
    refusal = scope_of(actor).refuse_set_thresholds()
    if refusal is not None:
        raise Forbidden(refusal)
    problems = Problems()
    code = check_currency(problems, "currency", currency)
    value = check_amount(problems, "amount", amount, _l("Enter the threshold amount."))
    text = problems.text("note", note, NOTE_MAX)
    problems.check()
    assert code is not None and value is not None
    advisory_lock(_PG_LOCK)
    previous = in_force(code)
    if previous is not None and previous.amount == value:
        return previous, False
    row = GiftThreshold(currency=code, amount=value, note=text, set_at=utcnow(), set_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record(ACTION, "gift_threshold", code, actor=actor,
                 old={"amount": str(previous.amount)} if previous is not None else None,
                 new={"currency": code, "amount": str(value), "note": text})
    return row, True
