"""The CSV format itself (no AWS): header normalisation and every synonym, every column rule, duplicates,
row numbers as a spreadsheet shows them, and the problems that stop a file."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from distribu import csvformat
from distribu.csvformat import ImportFile, Problem, map_header, normalise_header

PRODUCT_SYNONYMS = {
    "sku": ["itemcode", "productcode", "itemnumber", "itemid", "partnumber"],
    "name": ["productname", "title", "itemname", "product"],
    "description": ["desc", "productdescription", "longdescription"],
    "category": ["cat", "productcategory", "group", "department"],
    "unit": ["uom", "units", "unitofmeasure"],
    "price": ["unitprice", "listprice", "costprice", "cost", "sellprice", "msrp"],
    "stock": ["quantity", "qty", "onhand", "inventory", "available", "stocklevel"],
    "isActive": ["active", "enabled", "status"],
}
CUSTOMER_SYNONYMS = {
    "email": ["emailaddress", "e-mail", "contactemail"],
    "name": ["fullname", "customername", "contactname", "companyname"],
    "status": ["state"],
    "notes": ["note", "comments", "comment", "remarks"],
    "creditLimit": ["credit", "limit", "creditline"],
}


def read(kind: str, text: str) -> tuple[ImportFile, list[csvformat.ParsedRow]]:
    file = ImportFile(kind, io.StringIO(text, newline=""))
    return file, list(file.rows()) if not file.header.problems else []


def problems(rows: list[csvformat.ParsedRow]) -> list[tuple[int, str, str]]:
    return [(problem.row, problem.field, problem.message) for row in rows for problem in row.problems]


@pytest.mark.parametrize("header, expected", [
    ("Item Code", "itemcode"), ("item_code", "itemcode"), ("ITEM-CODE", "itemcode"), (" Unit  Of_Measure ", "unitofmeasure"),
    ("E-Mail", "email"), ("isActive", "isactive"), ("credit_limit", "creditlimit"), ("\ufeffsku", "sku"),
])
def test_header_normalisation_lowercases_and_strips_spaces_underscores_dashes(header: str, expected: str) -> None:
    assert normalise_header(header) == expected


@pytest.mark.parametrize("kind, synonyms", [("products", PRODUCT_SYNONYMS), ("customers", CUSTOMER_SYNONYMS)])
def test_every_synonym_and_canonical_name_maps_to_its_field(kind: str, synonyms: dict[str, list[str]]) -> None:
    required = [column.field for column in csvformat.COLUMNS[kind] if column.required]
    for field_name, names in synonyms.items():
        for name in [field_name, *names]:
            # Written the way spreadsheets do: capitalised words, spaces, dashes or underscores.
            for spelling in (name, name.upper(), name.replace("e", "e_", 1), f" {name.title()} "):
                others = [other for other in required if other != field_name]
                header = map_header(kind, [spelling, *others])
                assert header.problems == [], (spelling, header.problems)
                assert header.positions[field_name] == 0, spelling


def test_canonical_name_beats_a_synonym_and_unknown_columns_are_reported() -> None:
    header = map_header("products", ["SKU", "Name", "Cost", "Price", "Stock", "Warehouse"])
    assert header.positions["price"] == 3 and header.problems == []
    assert header.ignored == ["Warehouse", "Cost"]


def test_two_synonyms_for_one_field_are_ambiguous() -> None:
    header = map_header("products", ["sku", "name", "Cost", "MSRP", "stock"])
    assert header.problems == [Problem(1, "price", 'Columns "Cost" and "MSRP" could all be price; '
                                                   'rename the one to import to "price".')]


def test_missing_required_columns_and_repeated_columns() -> None:
    header = map_header("products", ["Item Code", "Title", "Item Code"])
    assert [problem.message for problem in header.problems] == [
        'Column "Item Code" appears twice (also "Item Code").',
        'Missing required column "price".', 'Missing required column "stock".',
    ]
    assert map_header("customers", ["name", "password"]).problems == [
        Problem(1, "email", 'Missing required column "email".')]
    assert map_header("customers", ["email", "password"]).ignored == ["password"]  # ignored, and said so


def test_a_valid_product_row_with_every_column() -> None:
    _, rows = read("products", "Part Number,Item Name,Long Description,Department,UOM,List Price,On Hand,Enabled,Image\n"
                               'WDG-1, Widget ,"Blue, large",Tools,case,"$1,234.50","1,200",Yes,https://cdn.example/w.png\n')
    assert rows[0].problems == [] and rows[0].row == 2 and rows[0].key == "wdg-1"
    assert rows[0].values == {"sku": "WDG-1", "name": "Widget", "description": "Blue, large", "category": "Tools",
                              "unit": "case", "price": Decimal("1234.50"), "stock": 1200, "isActive": True,
                              "imageUrl": "https://cdn.example/w.png"}


def test_blank_optional_cells_take_the_documented_defaults() -> None:
    _, rows = read("products", "sku,name,description,category,unit,price,stock,isActive\nA,Thing,,,,0,0,\n")
    assert rows[0].values == {"sku": "A", "name": "Thing", "description": None, "category": None, "unit": "each",
                              "price": Decimal("0.00"), "stock": 0, "isActive": True}
    _, rows = read("customers", "email,name,status,notes,creditLimit\n Bob@Acme.com ,,,,\n")
    assert rows[0].values == {"email": "bob@acme.com", "name": None, "status": "ACTIVE", "notes": None,
                              "creditLimit": None}


@pytest.mark.parametrize("cell, value", [("true", True), ("FALSE", False), ("yes", True), ("No", False), ("1", True),
                                         ("0", False), ("y", True), ("n", False), ("Active", True),
                                         ("inactive", False), ("enabled", True), ("disabled", False)])
def test_is_active_words(cell: str, value: bool) -> None:
    _, rows = read("products", f"sku,name,price,stock,status\nA,B,1,1,{cell}\n")
    assert rows[0].values["isActive"] is value


@pytest.mark.parametrize("cells, field_name, message", [
    ("A,,1,1,", "name", "is required"),
    (",B,1,1,", "sku", "is required"),
    ("A,B,,1,", "price", "is required"),
    ("A,B,1,,", "stock", "is required"),
    ("A,B,abc,1,", "price", "must be a number"),
    ("A,B,12.345,1,", "price", "must have at most 2 decimal places"),
    ("A,B,-1,1,", "price", "must be at least 0"),
    ("A,B,\"12,50\",1,", "price", "must be a number"),
    ("A,B,1,1.5,", "stock", "must be a whole number"),
    ("A,B,1,-3,", "stock", "Input should be greater than or equal to 0"),
    ("A,B,1,ten,", "stock", "must be a number"),
    ("A,B,1,1,maybe", "isActive", "must be true or false"),
    (f"{'S' * 101},B,1,1,", "sku", "String should have at most 100 characters"),
    (f"A,{'N' * 201},1,1,", "name", "String should have at most 200 characters"),
])
def test_product_cell_rules(cells: str, field_name: str, message: str) -> None:
    _, rows = read("products", f"sku,name,price,stock,isActive\n{cells}\n")
    assert problems(rows) == [(2, field_name, message)]


def test_product_optional_length_and_url_rules() -> None:
    _, rows = read("products", "sku,name,price,stock,description,category,imageUrl,lowStockThreshold\n"
                               f"A,B,1,1,{'d' * 2001},{'c' * 101},ftp://x,-1\n")
    assert problems(rows) == [
        (2, "description", "String should have at most 2000 characters"),
        (2, "category", "String should have at most 100 characters"),
        (2, "imageUrl", "must be an http or https URL of at most 2048 characters"),
        (2, "lowStockThreshold", "Input should be greater than or equal to 0"),
    ]


@pytest.mark.parametrize("cells, field_name, message", [
    (",Bob,,,", "email", "is required"),
    ("bob,Bob,,,", "email", "must be a valid email address of at most 254 characters"),
    ("bob@acme.com,Bob,SUSPENDED,,", "status", "must be ACTIVE or BLOCKED"),
    ("bob@acme.com,Bob,,,lots", "creditLimit", "must be a number"),
    ("bob@acme.com,Bob,,,-5", "creditLimit", "must be at least 0"),
    ("bob@acme.com,Bob,,,1.005", "creditLimit", "must have at most 2 decimal places"),
    (f"bob@acme.com,{'n' * 101},,,", "name", "String should have at most 100 characters"),
    (f"bob@acme.com,Bob,,{'x' * 2001},", "notes", "String should have at most 2000 characters"),
])
def test_customer_cell_rules(cells: str, field_name: str, message: str) -> None:
    _, rows = read("customers", f"email,name,status,notes,creditLimit\n{cells}\n")
    assert problems(rows) == [(2, field_name, message)]


def test_customer_status_is_case_insensitive_and_password_is_ignored() -> None:
    file, rows = read("customers", "Email Address,Customer Name,State,Password\nA@B.CO,Acme,blocked,hunter2\n")
    assert rows[0].values == {"email": "a@b.co", "name": "Acme", "status": "BLOCKED"}
    assert file.header.ignored == ["Password"]


def test_every_problem_of_a_row_is_listed() -> None:
    _, rows = read("products", "sku,name,price,stock,isActive\nA,,x,1.5,maybe\n")
    assert problems(rows) == [(2, "name", "is required"), (2, "price", "must be a number"),
                              (2, "stock", "must be a whole number"), (2, "isActive", "must be true or false")]


def test_duplicates_name_the_first_row_with_the_documented_message() -> None:
    rows_text = "".join(f"user{number}@acme.com\n" for number in range(3, 47))
    _, rows = read("customers", f"email\nbob@acme.com\n{rows_text}BOB@Acme.com\n")
    assert problems(rows) == [(47, "email", 'Duplicate email "bob@acme.com" also on row 2')]
    _, rows = read("products", "sku,name,price,stock\nWDG-1,A,1,1\nwdg-1,B,1,1\nWDG-1,C,1,1\n")
    assert problems(rows) == [(3, "sku", 'Duplicate SKU "wdg-1" also on row 2'),
                              (4, "sku", 'Duplicate SKU "WDG-1" also on row 2')]


def test_row_numbers_are_spreadsheet_rows_blank_rows_skipped_multiline_cells_one_row() -> None:
    _, rows = read("products", 'sku,name,description,price,stock\nA,N,"two\nlines",1,1\n\n,,,,\nB,X,,bad,1\n')
    assert [row.row for row in rows] == [2, 5]
    assert rows[0].values["description"] == "two\nlines"
    assert problems(rows) == [(5, "price", "must be a number")]


def test_control_characters_are_refused_but_long_texts_keep_line_breaks() -> None:
    _, rows = read("products", 'sku,name,description,price,stock\nA,"two\nlines","two\nlines",1,1\n'
                               'B,Nul\x00name,"bell\x07",1,1\n')
    assert problems(rows) == [
        (2, "name", "must not contain control characters"),
        (3, "name", "must not contain control characters"),
        (3, "description", "must not contain control characters other than tabs and line breaks")]


def test_extra_cells_and_short_rows() -> None:
    _, rows = read("products", "sku,name,price,stock\nA,B,1,1,surprise\nC,D,1\n")
    assert problems(rows) == [(2, "row", "has 1 more value(s) than the header has columns"), (3, "stock", "is required")]


def test_semicolons_and_tabs_are_understood() -> None:
    _, rows = read("products", "sku;name;price;stock\nA;B;1.50;2\n")
    assert rows[0].values["price"] == Decimal("1.50")
    _, rows = read("products", "sku\tname\tprice\tstock\nA\tB\t1\t2\n")
    assert rows[0].values["stock"] == 2


def test_an_empty_file_or_a_blank_header() -> None:
    for text in ("", "\n\n"):
        file, _ = read("products", text)
        assert [problem.message for problem in file.header.problems] == [
            "The file is empty: the first row must name the columns."]


def test_too_many_rows_stops_the_file() -> None:
    file = ImportFile("products", io.StringIO("sku,name,price,stock\n" + "A,B,1,1\n" * 4), max_rows=3)
    with pytest.raises(csvformat.FileProblem) as raised:
        list(file.rows(check_duplicates=False))
    assert raised.value.problem == Problem(5, "file", "The file has more than 3 rows; split it into smaller files.")


def test_bytes_that_are_not_utf8_are_named_by_row() -> None:
    latin1 = "sku,name,price,stock\nA,Cafe,1,1\nB,Caf\xe9,1,1\n".encode("latin-1")
    stream = io.TextIOWrapper(io.BytesIO(latin1), encoding="utf-8-sig", errors="replace", newline="")
    file = ImportFile("products", stream)
    assert problems(list(file.rows())) == [
        (3, "row", 'has characters that are not UTF-8 text; save the file as "CSV UTF-8" and upload it again')]
    strict = io.TextIOWrapper(io.BytesIO(latin1), encoding="utf-8-sig", newline="")
    with pytest.raises(csvformat.FileProblem) as raised:
        list(ImportFile("products", strict).rows())
    assert raised.value.problem.message == 'The file is not UTF-8 text; save it as "CSV UTF-8" and upload it again.'


def test_a_utf8_file_with_a_bom_reads_its_first_header() -> None:
    stream = io.TextIOWrapper(io.BytesIO("\ufeffsku,name,price,stock\nA,Café,1,1\n".encode("utf-8")),
                              encoding="utf-8-sig", errors="replace", newline="")
    rows = list(ImportFile("products", stream).rows())
    assert rows[0].values["sku"] == "A" and rows[0].values["name"] == "Café"


def test_export_cells_read_back_as_the_same_values() -> None:
    item = {"sku": "A-1", "name": "Thing, \"quoted\"", "description": "line\nbreak", "category": None, "unit": "kg",
            "price": Decimal("12.5"), "stock": Decimal("7"), "isActive": False}
    buffer = io.StringIO(newline="")
    import csv

    writer = csv.writer(buffer)
    writer.writerow(csvformat.PRODUCT_EXPORT_HEADER)
    writer.writerow(csvformat.product_row(item))
    assert buffer.getvalue().splitlines()[0] == "sku,name,description,category,unit,price,stock,isActive"
    _, rows = read("products", buffer.getvalue())
    assert rows[0].values == {"sku": "A-1", "name": 'Thing, "quoted"', "description": "line\nbreak", "category": None,
                              "unit": "kg", "price": Decimal("12.50"), "stock": 7, "isActive": False}


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "'=x", "''x", "'x", "'", "x", "", "==",
                                  "'\t", "a=b"])
def test_neutralised_cells_restore_to_exactly_what_was_written(text: str) -> None:
    from distribu.csvformat import FORMULA_STARTS, neutralise, restore

    cell = neutralise(text)
    assert restore(cell) == text
    assert not cell[:1] or cell[0] not in FORMULA_STARTS
