"""One format for every printed address (pages, invoices): the city line as the country writes it."""

from __future__ import annotations

import pytest

from distribu import addresses

DOCK = {"name": "Receiving", "company": "Northwind Traders", "line1": "12 Harbour Road", "line2": "Dock 3"}


@pytest.mark.parametrize("place, locality", [
    ({"city": "Portland", "region": "OR", "postalCode": "97209", "country": "US"}, "Portland, OR 97209"),
    ({"city": "Toronto", "region": "ON", "postalCode": "M5V 2T6", "country": "Canada"}, "Toronto, ON M5V 2T6"),
    ({"city": "Berlin", "postalCode": "10115", "country": "DE"}, "10115 Berlin"),
    ({"city": "Milano", "region": "MI", "postalCode": "20121", "country": "Italy"}, "20121 Milano, MI"),
    ({"city": "Springfield", "country": "United States"}, "Springfield"),
    ({"city": "Lyon", "region": "Rhône", "country": "FR"}, "Lyon, Rhône"),
])
def test_the_city_line_follows_the_country(place: dict, locality: str) -> None:
    address = {**DOCK, **place, "phone": "+1 503 555 0100"}
    assert addresses.locality(address) == locality
    assert addresses.lines(address) == ["Receiving", "Northwind Traders", "12 Harbour Road", "Dock 3", locality,
                                        place["country"], "+1 503 555 0100"]
    assert addresses.one_line(address) == ", ".join(["Receiving", "Northwind Traders", "12 Harbour Road", "Dock 3",
                                                     locality, place["country"]])


def test_missing_parts_leave_no_gaps() -> None:
    assert addresses.lines({"line1": "1 Main St", "city": "Springfield", "country": "US"}) == \
        ["1 Main St", "Springfield", "US"]
    assert addresses.lines({}) == []
