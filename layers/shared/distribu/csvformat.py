"""CSV formats of imports and exports: header matching, the rules of every column, the export layouts.

Pure functions, no AWS. The import pipeline (:mod:`distribu.imports`) reads with them and the exports
(:mod:`distribu.exports`) write with them, so a file Distribu writes reads back with every row unchanged.

Rows are validated by the same pydantic models as the API (``ProductCreate``, ``CustomerCreate``), so
a CSV row and a JSON body obey one set of rules; only the text-to-value step (``"12.50"`` -> 12.50,
``"yes"`` -> true, blank cells) is CSV-specific. Row numbers are the ones a spreadsheet shows: the
header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterator, TextIO

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from distribu.catalog import ProductCreate
from distribu.customers import CustomerCreate
from distribu.validation import LONG_TEXT_FIELDS, control_characters_problem, field_errors

KINDS = ("products", "customers")
# Far past Distribu's 2 MB / 5,000 rows (spec section 16).
MAX_ROWS = 250_000

PRODUCT_EXPORT_HEADER = ("sku", "name", "description", "category", "unit", "price", "stock", "isActive")
CUSTOMER_EXPORT_HEADER = ("email", "name", "status", "notes", "creditLimit")
ORDER_EXPORT_HEADER = ("orderId", "createdAt", "status", "total", "itemCount", "customerEmail", "customerName",
                       "poNumber", "notes", "shippingCity", "shippingRegion", "shippingCountry")
ORDER_ITEMS_EXPORT_HEADER = ("orderId", "createdAt", "status", "customerEmail", "productSku", "productName",
                             "quantity", "unitPrice", "lineTotal")

FILE = "file"  # the ``field`` of problems that concern the whole file rather than one cell


@dataclass(frozen=True)
class Column:
    field: str
    synonyms: tuple[str, ...] = ()
    required: bool = False


# Synonyms exactly as the spec lists them (after normalisation). imageUrl and lowStockThreshold are API
# fields the spec lets CSV set too; they are optional and absent from the export layout.
PRODUCT_COLUMNS = (
    Column("sku", ("itemcode", "productcode", "itemnumber", "itemid", "partnumber"), required=True),
    Column("name", ("productname", "title", "itemname", "product"), required=True),
    Column("description", ("desc", "productdescription", "longdescription")),
    Column("category", ("cat", "productcategory", "group", "department")),
    Column("unit", ("uom", "units", "unitofmeasure")),
    Column("price", ("unitprice", "listprice", "costprice", "cost", "sellprice", "msrp"), required=True),
    Column("stock", ("quantity", "qty", "onhand", "inventory", "available", "stocklevel"), required=True),
    Column("isActive", ("active", "enabled", "status")),
    Column("imageUrl", ("image", "imagelink")),
    Column("lowStockThreshold", ()),
)
CUSTOMER_COLUMNS = (
    Column("email", ("emailaddress", "email", "contactemail"), required=True),  # "e-mail" normalises to "email"
    Column("name", ("fullname", "customername", "contactname", "companyname")),
    Column("status", ("state",)),
    Column("notes", ("note", "comments", "comment", "remarks")),
    Column("creditLimit", ("credit", "limit", "creditline")),
)
COLUMNS = {"products": PRODUCT_COLUMNS, "customers": CUSTOMER_COLUMNS}
MODELS: dict[str, type[BaseModel]] = {"products": ProductCreate, "customers": CustomerCreate}
KEY_FIELD = {"products": "sku", "customers": "email"}
KEY_LABEL = {"products": "SKU", "customers": "email"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row (or the file), shown as ``Row 5: price must be a number``."""

    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


class FileProblem(Exception):
    """The file cannot be read on from here (not UTF-8, broken CSV, too many rows)."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(row, FILE, message)


def normalise_header(text: str) -> str:
    """Lowercase, strip spaces, underscores and dashes: ``"Item Code"``, ``item_code``, ``ITEM-CODE`` -> itemcode."""
    return re.sub(r"[\s_\-\ufeff]+", "", text).lower()


@dataclass
class HeaderMap:
    positions: dict[str, int]
    ignored: list[str]
    problems: list[Problem]


def map_header(kind: str, header: list[str]) -> HeaderMap:
    """Which cell holds which field. The canonical name beats a synonym; two synonyms competing for one
    field without the canonical name is ambiguous, as is the same column twice: the user must choose."""
    columns = COLUMNS[kind]
    by_name: dict[str, tuple[str, bool]] = {}
    for column in columns:
        by_name[normalise_header(column.field)] = (column.field, True)
        for synonym in column.synonyms:
            by_name.setdefault(synonym, (column.field, False))
    candidates: dict[str, list[tuple[int, bool]]] = {}
    ignored: list[str] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for index, text in enumerate(header):
        name = normalise_header(text)
        if not name:
            continue
        if name in seen:
            problems.append(Problem(1, FILE, f'Column "{text.strip()}" appears twice (also "{seen[name]}").'))
            continue
        seen[name] = text.strip()
        match = by_name.get(name)
        if match is None:  # a customer's password too: listed, so the user sees it was not imported
            ignored.append(text.strip())
            continue
        candidates.setdefault(match[0], []).append((index, match[1]))
    positions: dict[str, int] = {}
    for field_name, found in candidates.items():
        canonical = [index for index, is_canonical in found if is_canonical]
        if canonical:
            positions[field_name] = canonical[0]
            ignored += [header[index].strip() for index, is_canonical in found if not is_canonical]
        elif len(found) == 1:
            positions[field_name] = found[0][0]
        else:
            names = " and ".join(f'"{header[index].strip()}"' for index, _ in found)
            problems.append(Problem(1, field_name, f'Columns {names} could all be {field_name}; '
                                                   f'rename the one to import to "{field_name}".'))
    for column in columns:
        if column.required and column.field not in positions and column.field not in {p.field for p in problems}:
            problems.append(Problem(1, column.field, f'Missing required column "{column.field}".'))
    return HeaderMap(positions, ignored, problems)


# --- cells -> values -------------------------------------------------------------------------------------

class CellError(ValueError):
    pass


class _Required:
    """A required cell left blank."""


REQUIRED = _Required()
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_TRUE = frozenset({"true", "yes", "y", "1", "active", "enabled", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "inactive", "disabled", "off"})


def parse_number(text: str, *, money: bool = False) -> Decimal:
    """``12.5``, ``1,234.50`` (thousands separators) and, for money, ``$12.50``; never ``12,50``."""
    value = text
    if money and value.startswith("$"):
        value = value[1:].strip()
    if _GROUPED.match(value):
        value = value.replace(",", "")
    if not _NUMBER.match(value):
        raise CellError("must be a number")
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise CellError("must be a number") from None


def parse_whole(text: str) -> int:
    number = parse_number(text)
    if abs(number) >= Decimal("1e15"):
        raise CellError("is too large")
    if number != number.to_integral_value():
        raise CellError("must be a whole number")
    return int(number)


def parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CellError("must be true or false")


def _required_text(text: str) -> Any:
    return text if text else REQUIRED


def _optional_text(text: str) -> Any:
    return text or None


def _required_money(text: str) -> Any:
    return parse_number(text, money=True) if text else REQUIRED


def _optional_money(text: str) -> Any:
    return parse_number(text, money=True) if text else None


def _required_whole(text: str) -> Any:
    return parse_whole(text) if text else REQUIRED


def _optional_whole(text: str) -> Any:
    return parse_whole(text) if text else None


def _status(text: str) -> str:
    if not text:
        return "ACTIVE"
    upper = text.upper()
    if upper not in ("ACTIVE", "BLOCKED"):
        raise CellError("must be ACTIVE or BLOCKED")
    return upper


CONVERTERS: dict[str, dict[str, Callable[[str], Any]]] = {
    "products": {
        "sku": _required_text, "name": _required_text, "description": _optional_text,
        "category": _optional_text, "unit": lambda text: text or "each", "price": _required_money,
        "stock": _required_whole, "isActive": lambda text: parse_bool(text) if text else True,
        "imageUrl": _optional_text, "lowStockThreshold": _optional_whole,
    },
    "customers": {
        "email": _required_text, "name": _optional_text, "status": _status, "notes": _optional_text,
        "creditLimit": _optional_money,
    },
}


@dataclass
class ParsedRow:
    row: int
    key: str | None  # the match key: lowercased SKU or email; None when the cell is blank
    shown: str | None  # the key as messages show it: the SKU as written, the email lowercased
    values: dict[str, Any]  # validated values of the columns the file has
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


class RowParser:
    """One row's cells -> validated values, with every problem of the row (not just the first)."""

    def __init__(self, kind: str, header: HeaderMap) -> None:
        self.kind = kind
        self.positions = sorted(header.positions.items(), key=lambda pair: pair[1])
        self.width = max((index for _, index in self.positions), default=-1) + 1
        self.converters = CONVERTERS[kind]
        self.model = MODELS[kind]
        self.key_field = KEY_FIELD[kind]

    def parse(self, row: int, cells: list[str]) -> ParsedRow:
        problems: list[Problem] = []
        data: dict[str, Any] = {}
        failed: set[str] = set()
        shown: str | None = None
        for field_name, index in self.positions:
            text = restore(cells[index].strip()) if index < len(cells) else ""
            if field_name == self.key_field:
                shown = (text.lower() if self.kind == "customers" else text) or None
            unprintable = control_characters_problem(text, long_text=field_name in LONG_TEXT_FIELDS)
            if unprintable:
                problems.append(Problem(row, field_name, unprintable))
                failed.add(field_name)
                continue
            try:
                value = self.converters[field_name](text)
            except CellError as error:
                problems.append(Problem(row, field_name, str(error)))
                failed.add(field_name)
                continue
            if value is REQUIRED:
                problems.append(Problem(row, field_name, "is required"))
                failed.add(field_name)
                continue
            data[field_name] = value
        values: dict[str, Any] = {}
        try:
            validated = self.model.model_validate(data).model_dump()
            values = {name: validated[name] for name in data}
        except PydanticValidationError as error:
            for detail in field_errors(error.errors()):
                if detail["field"] not in failed:
                    problems.append(Problem(row, detail["field"], detail["message"]))
        return ParsedRow(row, shown.lower() if shown else None, shown, values, problems)


# --- a whole file --------------------------------------------------------------------------------------

def _delimiter(first_line: str) -> str:
    """Comma, unless the header clearly uses semicolons (European spreadsheets) or tabs."""
    if "," in first_line:
        return ","
    for candidate in (";", "\t"):
        if candidate in first_line:
            return candidate
    return ","


class ImportFile:
    """Reads an import from a text stream, one row at a time (constant memory but for duplicate keys).

    ``header.problems`` lists what is wrong with the header; :meth:`rows` yields every non-blank data
    row, checked, and raises :class:`FileProblem` when the file cannot be read on.
    """

    def __init__(self, kind: str, stream: TextIO, *, max_rows: int = MAX_ROWS) -> None:
        if kind not in KINDS:
            raise ValueError(kind)
        self.kind = kind
        self.max_rows = max_rows
        try:
            first = stream.readline()
        except UnicodeDecodeError:
            raise FileProblem(1, _NOT_UTF8) from None
        self.delimiter = _delimiter(first)
        self._reader = csv.reader(itertools.chain([first], stream), delimiter=self.delimiter)
        self.header_cells = self._next_record(1) if first else None
        if self.header_cells and any(_REPLACED in cell for cell in self.header_cells):
            raise FileProblem(1, _NOT_UTF8)
        if self.header_cells is None or not any(cell.strip() for cell in self.header_cells):
            self.header = HeaderMap({}, [], [Problem(1, FILE, _EMPTY)])
        else:
            self.header = map_header(kind, self.header_cells)
        self.parser = RowParser(kind, self.header)
        self.rows_read = 0

    def _next_record(self, row: int) -> list[str] | None:
        try:
            return next(self._reader)
        except StopIteration:
            return None
        except UnicodeDecodeError:
            raise FileProblem(row, _NOT_UTF8) from None
        except csv.Error as error:
            raise FileProblem(row, f"Row {row} could not be read as CSV ({error}).") from None

    def rows(self, *, skip_through: int = 0, check_duplicates: bool = True) -> Iterator[ParsedRow]:
        """Data rows after ``skip_through`` (a row number), blank ones left out. Duplicate keys are
        reported on the later row, naming the first: ``Duplicate SKU "W-1" also on row 12``."""
        first_row: dict[str, int] = {}
        label = KEY_LABEL[self.kind]
        key_field = KEY_FIELD[self.kind]
        row = 1
        while True:
            row += 1
            cells = self._next_record(row)
            if cells is None:
                return
            if not any(cell.strip() for cell in cells):
                continue
            self.rows_read += 1
            if self.rows_read > self.max_rows:
                raise FileProblem(row, f"The file has more than {self.max_rows:,} rows; split it into smaller files.")
            if row <= skip_through:
                continue
            parsed = self.parser.parse(row, cells)
            if any(_REPLACED in cell for cell in cells):
                parsed.problems.append(Problem(row, "row", _NOT_UTF8_ROW))
            extra = [cell for cell in cells[len(self.header_cells or []):] if cell.strip()]
            if extra:
                parsed.problems.append(Problem(row, "row",
                                               f"has {len(extra)} more value(s) than the header has columns"))
            if check_duplicates and parsed.key is not None:
                earlier = first_row.setdefault(parsed.key, row)
                if earlier != row:
                    parsed.problems.append(Problem(row, key_field,
                                                   f'Duplicate {label} "{parsed.shown}" also on row {earlier}'))
            yield parsed


_EMPTY = "The file is empty: the first row must name the columns."
_NOT_UTF8 = 'The file is not UTF-8 text; save it as "CSV UTF-8" and upload it again.'
_NOT_UTF8_ROW = 'has characters that are not UTF-8 text; save the file as "CSV UTF-8" and upload it again'
_REPLACED = "\ufffd"  # what a byte that is not UTF-8 decodes to (streams are read with errors="replace")


# --- values -> cells (exports) ---------------------------------------------------------------------------

def money_cell(value: Any) -> str:
    """``12.50``: two places, never exponent notation."""
    if value is None:
        return ""
    return f"{Decimal(str(value)).quantize(Decimal('0.01')):f}"


def whole_cell(value: Any) -> str:
    return "" if value is None else str(int(value))


# A cell a spreadsheet would run as a formula (or a DDE command) when it begins with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """OWASP's CSV-injection defence: a cell that would start a formula gets a leading single quote, which
    spreadsheets show as text and do not display. A cell that already starts with a quote :func:`restore`
    would take away gets one more, so every text reads back exactly as it was written."""
    if text and (text[0] in FORMULA_STARTS or restore(text) != text):
        return "'" + text
    return text


def restore(cell: str) -> str:
    """Undo :func:`neutralise`: a leading quote before a formula start, or before another quote, was ours."""
    if len(cell) > 1 and cell[0] == "'" and (cell[1] in FORMULA_STARTS or cell[1] == "'"):
        return cell[1:]
    return cell


def text_cell(value: Any) -> str:
    """User text (names, notes, descriptions, ...) as a cell no spreadsheet runs."""
    return "" if value is None else neutralise(str(value))


def bool_cell(value: Any) -> str:
    return "true" if value else "false"


def product_row(item: dict[str, Any]) -> list[str]:
    return [text_cell(item.get("sku")), text_cell(item.get("name")), text_cell(item.get("description")),
            text_cell(item.get("category")), text_cell(item.get("unit") or "each"), money_cell(item.get("price")),
            whole_cell(item.get("stock")), bool_cell(item.get("isActive", True))]


def customer_row(item: dict[str, Any]) -> list[str]:
    return [text_cell(item.get("email")), text_cell(item.get("name")), text_cell(item.get("status") or "ACTIVE"),
            text_cell(item.get("notes")), money_cell(item.get("creditLimit"))]
