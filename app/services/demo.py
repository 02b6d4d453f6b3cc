"""Demo data: a realistic small company (products with valid GTIN-13s, bins in pick order,
stock, customers, open orders from several channels, operators with known PINs).

``create_demo_data(engine, products=5000, orders=500)`` scales to a million products and
200,000 orders for the benchmarks; rows go in with batched Core inserts.
"""

from __future__ import annotations

import logging
import random
import uuid
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select

from app.domain.orders import OrderStatus
from app.domain.roles import Role
from app.ids import new_id
from app.scanning.gtin import gtin_check_digit
from app.services.auth import hash_pin
from app.store.models import (
    Barcode,
    Company,
    Customer,
    Location,
    Operator,
    Order,
    OrderLine,
    Product,
    SalesChannel,
    StockMovement,
    Tote,
    Warehouse,
)

log = logging.getLogger(__name__)
BATCH = 20_000
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class DemoOperator:
    name: str
    badge: str
    pin: str
    roles: tuple[Role, ...]


DEMO_OPERATORS = (
    DemoOperator("Pat Packer", "OP-1001", "1111", (Role.PACKER,)),
    DemoOperator("Kim Picker", "OP-1002", "2222", (Role.PICKER,)),
    DemoOperator("Robin Returns", "OP-1003", "3333", (Role.RETURNS_CLERK,)),
    DemoOperator("Chris Counter", "OP-1004", "4444", (Role.COUNTER_CLERK,)),
    DemoOperator("Sam Supervisor", "OP-9001", "9999", (Role.SUPERVISOR,)),
    DemoOperator("Alex Admin", "OP-9999", "0000", (Role.ADMIN,)),
)

CHANNELS = (("WEB", "Webshop"), ("AMZ", "Amazon"), ("EBAY", "eBay"), ("ZAL", "Zalando"))
COMPANY_PREFIX = "4061230"  # GS1 company prefix; the demo varies its last digit past 100,000 items

_ADJ = (
    "Classic",
    "Organic",
    "Compact",
    "Premium",
    "Outdoor",
    "Wireless",
    "Stainless",
    "Bamboo",
    "Ceramic",
    "Cotton",
    "Recycled",
    "Ergonomic",
    "Heavy-duty",
    "Travel",
    "Vintage",
    "Kids'",
    "Waterproof",
    "Foldable",
    "Smart",
    "Handmade",
)
_COLOURS = ("black", "white", "navy", "olive", "sand", "red", "grey")
_SIZES = ("S", "M", "L", "XL")
_VOLUMES = ("350 ml", "500 ml", "750 ml", "1 l")
_PACKS = ("single", "2-pack", "set of 4")
# Each kind of product with the variants that make sense for it.
_NOUN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("water bottle", _VOLUMES),
    ("desk lamp", _COLOURS),
    ("backpack", _COLOURS),
    ("phone case", _COLOURS),
    ("coffee mug", _VOLUMES),
    ("yoga mat", _COLOURS),
    ("kitchen knife", ("12 cm", "16 cm", "20 cm")),
    ("bath towel", _COLOURS),
    ("notebook", ("A5", "A4", "pocket")),
    ("headphones", _COLOURS),
    ("sneakers", ("EU 38", "EU 40", "EU 42", "EU 44")),
    ("wool scarf", _COLOURS),
    ("cutting board", ("small", "large")),
    ("plant pot", ("12 cm", "18 cm", "24 cm")),
    ("USB-C cable", ("1 m", "2 m")),
    ("tea set", _PACKS),
    ("bike light", _PACKS),
    ("rain jacket", _SIZES),
    ("storage box", ("10 l", "25 l", "45 l")),
    ("pillow cover", ("40×40 cm", "50×50 cm")),
    ("sunglasses", _COLOURS),
    ("wall clock", _COLOURS),
    ("candle", _PACKS),
    ("dog leash", _SIZES),
    ("chess set", ("travel", "classic")),
    ("frying pan", ("24 cm", "28 cm")),
    ("power bank", ("10,000 mAh", "20,000 mAh")),
    ("beanie", _COLOURS),
    ("picture frame", ("13×18 cm", "A4", "30×40 cm")),
    ("hand cream", ("50 ml", "100 ml")),
)
_FIRST = (
    "Anna",
    "Lukas",
    "Sofia",
    "Jonas",
    "Emma",
    "Noah",
    "Mia",
    "Elias",
    "Léa",
    "Mateo",
    "Olivia",
    "Liam",
    "Zoë",
    "Finn",
    "Hannah",
    "Jakub",
    "Chloé",
    "Søren",
    "Ines",
    "Omar",
    "Amélie",
    "Björn",
    "Lucía",
    "Tomás",
    "Greta",
    "Yusuf",
    "Maja",
    "Ewa",
    "Niamh",
    "Arjun",
)
_LAST = (
    "Müller",
    "Schmidt",
    "Dubois",
    "García",
    "Rossi",
    "Jansen",
    "Novak",
    "Kowalski",
    "O'Brien",
    "Smith",
    "Andersson",
    "Fischer",
    "Martin",
    "Silva",
    "Weber",
    "Nielsen",
    "Horvat",
    "Lefèvre",
    "Bauer",
    "Moreau",
    "Costa",
    "Walsh",
    "Berg",
    "Hoffmann",
)
_CITIES = (
    ("Berlin", "10115", "DE", "Friedrichstraße"),
    ("Hamburg", "20095", "DE", "Mönckebergstraße"),
    ("München", "80331", "DE", "Sendlinger Straße"),
    ("Köln", "50667", "DE", "Hohe Straße"),
    ("Wien", "1010", "AT", "Kärntner Straße"),
    ("Zürich", "8001", "CH", "Bahnhofstrasse"),
    ("Amsterdam", "1012 JS", "NL", "Kalverstraat"),
    ("Paris", "75002", "FR", "Rue du Sentier"),
    ("Lyon", "69002", "FR", "Rue de la République"),
    ("Milano", "20121", "IT", "Via Brera"),
    ("Madrid", "28013", "ES", "Calle de Preciados"),
    ("København", "1160", "DK", "Strøget"),
    ("Praha", "110 00", "CZ", "Národní"),
    ("Warszawa", "00-001", "PL", "Nowy Świat"),
    ("Dublin", "D02 X285", "IE", "Grafton Street"),
    ("London", "EC1V 9HX", "GB", "City Road"),
)


def gtin13(n: int) -> str:
    """The n-th GTIN-13 of the demo company (n < 10,000,000; check digit right)."""
    body = f"{COMPANY_PREFIX[:6]}{n // 100_000}{n % 100_000:05d}"
    return body + str(gtin_check_digit(body))


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def create_demo_data(
    engine: Engine,
    *,
    products: int = 5000,
    orders: int = 500,
    seed: int = 42,
    progress: Progress | None = None,
) -> None:
    """Fill an empty, migrated database with a demo company."""
    rng = random.Random(seed)
    say = progress or (lambda what, done, total: None)
    with engine.begin() as conn:
        if conn.scalar(select(func.count()).select_from(Product)):
            raise RuntimeError("the database already holds products; demo data needs an empty one")

        def put(table: Any, rows: Iterator[dict[str, Any]], what: str, total: int) -> None:
            done = 0
            for batch in _batches(rows):
                conn.execute(insert(table), batch)
                done += len(batch)
                say(what, done, total)

        company_id, wh_id = new_id(), new_id()
        conn.execute(
            insert(Company),
            [
                {
                    "id": company_id,
                    "name": "Northwind Outfitters GmbH",
                    "profile": {
                        "address": {
                            "line1": "Lagerstraße 12",
                            "city": "Hamburg",
                            "postcode": "20457",
                            "country": "DE",
                        },
                        "phone": "+49 40 1234567",
                        "email": "service@northwind.example",
                        "website": "northwind.example",
                        "returns_url": "https://northwind.example/returns",
                        "gs1_company_prefix": COMPANY_PREFIX,
                    },
                }
            ],
        )
        conn.execute(
            insert(Warehouse),
            [{"id": wh_id, "company_id": company_id, "code": "WH1", "name": "Hamburg DC"}],
        )

        # Bins: aisles × bays × levels, numbered in the order a picker walks them.
        n_bins = max(200, min(products // 2, 60_000))
        bins: list[tuple[uuid.UUID, str]] = []
        aisle = 0
        while len(bins) < n_bins:
            for bay in range(1, 31):
                for level in range(1, 5):
                    bins.append((new_id(), f"{_aisle_name(aisle)}-{bay:02d}-{level}"))
            aisle += 1
        bins = bins[:n_bins]
        put(
            Location,
            (
                {
                    "id": b,
                    "warehouse_id": wh_id,
                    "code": code,
                    "zone": code.split("-")[0],
                    "pick_seq": i,
                }
                for i, (b, code) in enumerate(bins)
            ),
            "bins",
            n_bins,
        )
        put(
            Barcode,
            ({"code": code, "kind": "location", "entity_id": b, "units": 1} for b, code in bins),
            "bin barcodes",
            n_bins,
        )

        product_ids = [new_id() for _ in range(products)]
        homes = [bins[i % n_bins][0] for i in range(products)]
        now = datetime.now(UTC)

        prices = array("l")  # each product's price, for the order lines that sell it

        def product_rows() -> Iterator[dict[str, Any]]:
            for i, pid in enumerate(product_ids):
                noun, variants = rng.choice(_NOUN)
                name = f"{rng.choice(_ADJ)} {noun}, {rng.choice(variants)}"
                row: dict[str, Any] = {
                    "id": pid,
                    "sku": f"NW-{i + 1:07d}",
                    "name": name,
                    "gtin": "0" + gtin13(i),
                    "weight_g": rng.randint(40, 4000),
                    "length_mm": rng.randint(50, 600),
                    "width_mm": rng.randint(30, 400),
                    "height_mm": rng.randint(10, 300),
                    "price_minor": rng.randint(199, 24999),
                    "currency": "EUR",
                    "track_lot": i % 40 == 7,
                    "track_serial": False,
                    "track_expiry": False,
                    "home_location_id": homes[i],
                }
                prices.append(row["price_minor"])
                yield row

        put(Product, product_rows(), "products", products)

        def product_codes() -> Iterator[dict[str, Any]]:
            for i, pid in enumerate(product_ids):
                yield {"code": "0" + gtin13(i), "kind": "product", "entity_id": pid, "units": 1}
                if i % 25 == 3:  # a case of 12 with its own GTIN-14 (indicator digit 1)
                    body = "1" + gtin13(i)[:12]
                    yield {
                        "code": body + str(gtin_check_digit(body)),
                        "kind": "product",
                        "entity_id": pid,
                        "units": 12,
                    }

        put(Barcode, product_codes(), "product barcodes", products)
        put(
            StockMovement,
            (
                {
                    "id": new_id(),
                    "at": now - timedelta(days=30),
                    "product_id": pid,
                    "location_id": homes[i],
                    "qty": rng.randint(20, 400),
                    "reason": "receipt",
                    "ref": "OPENING",
                    "station_id": None,
                }
                for i, pid in enumerate(product_ids)
            ),
            "stock",
            products,
        )

        channel_ids = [new_id() for _ in CHANNELS]
        conn.execute(
            insert(SalesChannel),
            [
                {"id": cid, "code": code, "name": name}
                for cid, (code, name) in zip(channel_ids, CHANNELS, strict=True)
            ],
        )

        n_customers = max(50, orders // 2)
        customers: list[tuple[uuid.UUID, str, dict[str, str]]] = []
        for i in range(n_customers):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            city, postcode, country, street = rng.choice(_CITIES)
            name = f"{first} {last}"
            addr = {
                "name": name,
                "line1": f"{street} {rng.randint(1, 180)}",
                "city": city,
                "postcode": postcode,
                "country": country,
            }
            if i % 7 == 0:
                addr["line2"] = f"{rng.randint(1, 5)}. OG"
            customers.append((new_id(), name, addr))
        put(
            Customer,
            (
                {
                    "id": cid,
                    "name": name,
                    "email": f"{_ascii(name).lower().replace(' ', '.')}{i}@example.com",
                    "phone": f"+49 151 {rng.randint(1000000, 9999999)}",
                    "address": addr,
                }
                for i, (cid, name, addr) in enumerate(customers)
            ),
            "customers",
            n_customers,
        )

        order_rows: list[dict[str, Any]] = []
        line_rows: list[dict[str, Any]] = []
        for i in range(orders):
            oid = new_id()
            cid, _name, addr = customers[rng.randrange(n_customers)]
            order_rows.append(
                {
                    "id": oid,
                    "number": f"SO-{100001 + i}",
                    "channel_id": rng.choice(channel_ids),
                    "customer_id": cid,
                    "warehouse_id": wh_id,
                    "status": OrderStatus.CONFIRMED.value,
                    "placed_at": now - timedelta(minutes=rng.randint(5, 60 * 48)),
                    "ship_to": addr,
                    "hold_reason": "",
                    "status_before_hold": None,
                    "packed_at": None,
                    "version": 1,
                }
            )
            n_lines = rng.choices((1, 2, 3, 4, 5, 6, 7, 8), (30, 25, 15, 10, 8, 6, 4, 2))[0]
            chosen = rng.sample(range(products), n_lines)
            for line_no, p in enumerate(sorted(chosen, key=lambda p: p % n_bins), start=1):
                line_rows.append(
                    {
                        "id": new_id(),
                        "order_id": oid,
                        "line_no": line_no,
                        "product_id": product_ids[p],
                        "qty_ordered": rng.choices((1, 2, 3, 4, 12), (70, 18, 7, 4, 1))[0],
                        "qty_packed": 0,
                        "qty_missing": 0,
                        "location_id": homes[p],
                        "unit_price_minor": prices[p],
                    }
                )
            if len(order_rows) >= BATCH:
                put(Order, iter(order_rows), "orders", orders)
                put(OrderLine, iter(line_rows), "order lines", len(line_rows))
                order_rows, line_rows = [], []
        put(Order, iter(order_rows), "orders", orders)
        put(OrderLine, iter(line_rows), "order lines", len(line_rows))

        put(
            Tote,
            ({"id": new_id(), "code": f"T-{i:04d}", "order_id": None} for i in range(1, 101)),
            "totes",
            100,
        )
        conn.execute(
            insert(Operator),
            [
                {
                    "id": new_id(),
                    "name": op.name,
                    "badge": op.badge,
                    "pin_hash": hash_pin(op.pin),
                    "roles": " ".join(r.value for r in op.roles),
                    "active": True,
                }
                for op in DEMO_OPERATORS
            ],
        )
    log.info("demo data: %d products, %d orders", products, orders)


def has_products(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(select(Product.id).limit(1)))


def ensure_demo_data(engine: Engine, *, products: int = 5000, orders: int = 500) -> bool:
    """Create the demo company unless the database already has products; True if created."""
    if has_products(engine):
        return False
    create_demo_data(engine, products=products, orders=orders)
    from app.services.returns.demo import create_returns_demo

    create_returns_demo(engine, orders=max(4, min(12, orders // 20)))
    return True


def _aisle_name(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _ascii(text: str) -> str:
    import unicodedata

    return (
        "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        .replace("'", "")
        .replace("ø", "o")
        .replace("Ø", "O")
    )
