"""The register's filter parameters: one parser for the list, the exports and the dashboard; forged values 400."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale

from auditdocs.services import ServiceError
from auditdocs.services.nc_queries import NcFilters
from auditdocs.web.nc_params import filter_args, filters_from_args


def test_empty_means_any(app: Flask) -> None:
    with app.test_request_context():
        assert filters_from_args({}) == NcFilters()
        assert filters_from_args(dict.fromkeys(("status", "grade", "site", "q", "overdue"), "")) == NcFilters()


def test_every_filter_parsed(app: Flask) -> None:
    args = {"status": "not_closed", "grade": "major", "site": "3", "process": "4", "clause": "5",
            "source": "complaint", "q": "  fuga ", "overdue": "1"}
    with app.test_request_context():
        got = filters_from_args(args)
    assert got == NcFilters(status="not_closed", grade="major", site_id=3, process_id=4, clause_id=5,
                            source="complaint", text="fuga", overdue=True)
    assert filter_args(got) == {**args, "q": "fuga"}
    assert filter_args(NcFilters()) == {}


@pytest.mark.parametrize(("key", "value"), [
    ("status", "deleted"), ("grade", "Major"), ("source", "rumour"), ("site", "x"), ("site", "-1"),
    ("process", "99999999999999"), ("clause", "²"), ("overdue", "maybe"), ("q", "x" * 201),
])
def test_forged_value_is_a_translated_400(app: Flask, key: str, value: str) -> None:
    with app.test_request_context(), force_locale("es"):
        with pytest.raises(ServiceError) as caught:
            filters_from_args({key: value})
        assert caught.value.status == 400
        assert "no es válido" in str(caught.value.message)
