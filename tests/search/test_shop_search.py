"""The shopper's search (app.search.service.shop_search / suggest) on real
PostgreSQL and a real index: typos, ranking, facets checked against SQL,
filters, sorts, pages, hostile text, isolation."""
import shutil

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.catalog import products as catalog
from app.catalog.products import OptionSpec
from app.extensions import db
from app.inventory import service as inventory
from app.search import shop
from app.search import view as views
from app.search.filters import price_buckets
from app.search.index import index_dir
from app.search.service import SearchUnavailable, ShopFilters, shop_search, suggest
from tenants.session import tenant_engine
from tests.conftest import as_store, run_effects
from tests.search.conftest import two_stores_in_one_schema

ACTOR = "shop-search@example.com"
VENDORS = ("Acme", "Borealis", "Cobalt")
TYPES = ("Bags", "Scarves")
PRICES = ("12", "24.99", "25", "49", "75", "150", "199.99", "250")


def make(title, *, stock=0, options=(), **fields):
    """An active product; `stock` units of its first variant at the store's first location (0: sold out)."""
    product = catalog.create_product({"title": title, "price": "10", "status": "active", **fields},
                                     options=list(options), actor=ACTOR)
    if stock:
        location = inventory.locations()[0].id if inventory.locations() else inventory.create_location("Main").id
        inventory.adjust(product.variants[0].id, location, str(stock), reason="received", actor=ACTOR)
    return product


def ids(text="", filters=ShopFilters(), **kwargs):
    return shop_search(text, filters, **kwargs).product_ids


@pytest.fixture
def catalog_store(app, new_store):
    """24 active products over 3 vendors, 2 types, 8 prices, sizes and colours, some in stock; and a draft."""
    store = new_store()
    with as_store(app, store):
        inventory.create_location("Main")
        for n in range(24):
            sizes = [["S", "M"], ["M", "L"], ["S", "M", "L"]][n % 3]
            colours = [["Red"], ["Red", "Blue"], ["Green"], ["Blue"]][n % 4]
            make(f"{'Canvas tote' if n % 2 else 'Wool scarf'} {n}", stock=2 if n % 3 == 0 else 0,
                 vendor=VENDORS[n % 3], product_type=TYPES[n % 2], price=PRICES[n % 8],
                 options=[OptionSpec("Size", sizes), OptionSpec("Colour", colours)])
        make("Canvas tote draft", vendor="Acme", status="draft", stock=5)
        run_effects()
    return store


# --- what is in the database, in SQL ------------------------------------------------

FACTS = sa.text("""
    SELECT p.id, lower(p.vendor) AS vendor, lower(p.product_type) AS type, lower(p.title) AS title,
           (SELECT min(v.price) FROM variants v WHERE v.product_id = p.id) AS price,
           (SELECT coalesce(array_agg(lower(o.name) || ':' || lower(value)), '{}')
              FROM product_options o, unnest(o.values) AS value WHERE o.product_id = p.id) AS options,
           EXISTS (SELECT 1 FROM variants v JOIN inventory_levels l ON l.variant_id = v.id
                   WHERE v.product_id = p.id AND (NOT v.track_inventory OR l.on_hand > l.reserved)) AS in_stock
    FROM products p WHERE p.status = 'active'""")


def _facts() -> list[dict]:
    return [dict(row._mapping) for row in db.session.execute(FACTS, bind_arguments={"bind": tenant_engine(db)})]


def _passes(row, filters: ShopFilters, word: str, skip: str | None = None) -> bool:
    """Whether a product (a row of FACTS) meets the word and every filter but `skip`."""
    checks = {
        "vendor": lambda: not filters.vendors or row["vendor"] in {v.lower() for v in filters.vendors},
        "type": lambda: not filters.types or row["type"] in {t.lower() for t in filters.types},
        "price": lambda: ((filters.price_min is None or row["price"] >= filters.price_min)
                          and (filters.price_max is None or row["price"] < filters.price_max)),
        "in_stock": lambda: not filters.in_stock or row["in_stock"],
    }
    for name, values in filters.options.items():
        checks[f"opt.{name}"] = lambda name=name, values=values: any(
            f"{name}:{v.lower()}" in row["options"] for v in values)
    return (not word or word in row["title"]) and all(check() for key, check in checks.items() if key != skip)


def _expected_counts(rows, filters, word, key, value_of) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        if _passes(row, filters, word, skip=key):
            for value in value_of(row):
                counts[value] = counts.get(value, 0) + 1
    return counts


def _shown_counts(results, key) -> dict[str, int]:
    facet = next((f for f in results.facets if f.key == key), None)
    return {v.value.lower(): v.count for v in facet.values if v.count} if facet else {}


BUCKETS = {"-2500": (None, 2500), "2500-5000": (2500, 5000), "5000-10000": (5000, 10000),
           "10000-20000": (10000, 20000), "20000-": (20000, None)}


def _bucket_of(price: int) -> list[str]:
    return [key for key, (low, high) in BUCKETS.items() if (low is None or price >= low) and (high is None or price < high)]


FILTER_CASES = [
    ("", {}),
    ("", {"vendor": ["Acme"]}),
    ("tote", {"vendor": ["acme", "Cobalt"]}),
    ("", {"type": ["Bags"], "opt.size": ["L"]}),
    ("scarf", {"opt.size": ["S", "L"], "opt.colour": ["Blue"]}),
    ("", {"price": ["2500-10000"], "in_stock": ["1"]}),
    ("tote", {"vendor": ["Borealis"], "price": ["-20000"], "opt.colour": ["red"], "in_stock": ["1"]}),
    ("", {"vendor": ["Nobody"]}),
]


@pytest.mark.parametrize("word, args", FILTER_CASES)
def test_results_and_facet_counts_agree_with_the_database(app, catalog_store, word, args):
    with as_store(app, catalog_store):
        filters = ShopFilters.from_args(MultiDict([(k, v) for k, vs in args.items() for v in vs]))
        results = shop_search(word, filters, per_page=100)
        rows = _facts()
        expected = {row["id"] for row in rows if _passes(row, filters, word)}
        assert set(results.product_ids) == expected and results.total == len(expected)
        assert _shown_counts(results, "vendor") == _expected_counts(rows, filters, word, "vendor",
                                                                    lambda r: [r["vendor"]])
        assert _shown_counts(results, "type") == _expected_counts(rows, filters, word, "type", lambda r: [r["type"]])
        assert _shown_counts(results, "price") == _expected_counts(rows, filters, word, "price",
                                                                   lambda r: _bucket_of(r["price"]))
        for name in ("size", "colour"):
            assert _shown_counts(results, f"opt.{name}") == _expected_counts(
                rows, filters, word, f"opt.{name}",
                lambda r, name=name: [o.split(":", 1)[1] for o in r["options"] if o.startswith(name + ":")])
        assert _shown_counts(results, "in_stock") == _expected_counts(
            rows, filters, word, "in_stock", lambda r: ["1"] if r["in_stock"] else [])


def test_facets_are_labelled_and_mark_what_is_selected(app, catalog_store):
    with as_store(app, catalog_store):
        results = shop_search("", ShopFilters.from_args(MultiDict([("vendor", "acme"), ("price", "2500-5000"),
                                                                   ("opt.Size", "m")])))
        facets = {facet.key: facet for facet in results.facets}
        assert [f.key for f in results.facets] == ["vendor", "type", "price", "opt.colour", "opt.size", "in_stock"]
        assert (facets["opt.size"].label, facets["opt.colour"].label, facets["price"].label) == ("Size", "Colour",
                                                                                                "Price")
        vendors = {v.label: v for v in facets["vendor"].values}
        assert set(vendors) == set(VENDORS) and vendors["Acme"].selected and not vendors["Cobalt"].selected
        assert [(v.value, v.label, v.selected) for v in facets["price"].values][:2] == [
            ("-2500", "Under $25.00", False), ("2500-5000", "$25.00 – $50.00", True)]
        assert {v.label: v.selected for v in facets["opt.size"].values} == {"S": False, "M": True}  # no L left


def test_a_typo_finds_the_word_and_an_exact_match_outranks_a_corrected_one(app, new_store):
    with as_store(app, new_store()):
        shoes = make("Trail shoes", stock=3).id
        jacket = make("Rain jacket", stock=3).id
        boot = make("Leather boot", stock=3).id
        boat = make("Wooden boat", stock=3).id
        run_effects()
        found = shop_search("sheos", ShopFilters())
        assert found.product_ids == [shoes] and found.corrected and found.query == "sheos"
        assert ids("jaket") == [jacket] and ids("rain jaket") == [jacket]
        exact = shop_search("boot", ShopFilters())
        assert exact.product_ids == [boot, boat] and not exact.corrected  # "boat" is one edit from "boot"
        assert set(ids("bo")) == {boot, boat}
        assert ids("xyzzyq") == []


def test_the_last_word_is_a_prefix_as_you_type(app, new_store):
    with as_store(app, new_store()):
        running = make("Running vest", stock=1).id
        make("Cotton vest", stock=1)
        run_effects()
        assert ids("runn") == [running]  # the stemmed title holds only "run"
        assert ids("vest runn") == [running]
        assert [s.handle for s in suggest("runn")] == ["running-vest"]
        assert suggest("runnig") and suggest("runnig")[0].title == "Running vest"
        assert suggest("runn")[0].price_min == 1000


def test_title_matches_rank_above_description_matches(app, new_store):
    with as_store(app, new_store()):
        wrap = make("Plain wrap", stock=1, description_html="<p>Pairs with a linen dress.</p>").id
        scarf = make("Linen scarf", stock=1).id
        run_effects()
        assert ids("linen") == [scarf, wrap]


def test_in_stock_products_rank_above_sold_out_ones(app, new_store):
    with as_store(app, new_store()):
        sold_out = make("Canvas", stock=0).id  # the best title match, but none to sell
        in_stock = make("Bag", stock=4, description_html="<p>Made of canvas.</p>").id
        untracked = make("Canvas print", track_inventory=False).id  # not tracked: always available
        run_effects()
        assert ids("canvas") == [untracked, in_stock, sold_out]
        assert ids("canvas", per_page=2) == [untracked, in_stock] and ids("canvas", per_page=2, page=2) == [sold_out]
        assert ids("canvas", ShopFilters(in_stock=True)) == [untracked, in_stock]


@pytest.mark.parametrize("small_group", [shop.SMALL_GROUP, 10_000])
def test_sorts_and_pages(app, catalog_store, monkeypatch, small_group):
    monkeypatch.setattr(shop, "SMALL_GROUP", small_group)  # walk a whole order, or sort a few documents
    with as_store(app, catalog_store):
        rows = {row["id"]: row for row in _facts()}
        for sort, key in (("price_asc", lambda i: (rows[i]["price"], i)),
                          ("price_desc", lambda i: (-rows[i]["price"], -i)),
                          ("title", lambda i: (rows[i]["title"], i)),
                          ("newest", lambda i: -i)):  # created one after another
            pages = [shop_search("", ShopFilters(), sort=sort, page=page, per_page=5) for page in range(1, 7)]
            seen = [i for page in pages for i in page.product_ids]
            assert all(page.total == 24 for page in pages)
            assert seen == sorted(rows, key=key), sort
            assert pages[-1].product_ids == []  # past the end
        relevance = [i for page in range(1, 4) for i in ids("tote", per_page=5, page=page)]
        assert sorted(relevance) == sorted(i for i in rows if "tote" in rows[i]["title"])
        in_stock = [i for i in relevance if rows[i]["in_stock"]]
        assert relevance[:len(in_stock)] == in_stock  # in stock first, whatever the page size
        assert ids("", sort="nonsense", per_page=100) == ids("", per_page=100)


def test_junk_arguments_are_ignored_and_capped(app, catalog_store):
    junk = MultiDict([("vendor", ""), ("vendor", "\x00\x01"), ("vendor", "x" * 500), ("price", "abc"),
                      ("price", "50-10"), ("price", "-"), ("in_stock", "maybe"), ("opt.", "S"), ("opt.size", " "),
                      ("page", "-3"), ("sort", "<script>"), ("type", "Bags")]
                     + [("type", f"t{n}") for n in range(100)] + [(f"opt.o{n}", "v") for n in range(100)])
    filters = ShopFilters.from_args(junk)
    assert filters.vendors == frozenset({"x" * 100})
    assert (filters.price_min, filters.price_max, filters.in_stock) == (None, None, False)
    assert len(filters.types) == 20 and "Bags" in filters.types and len(filters.options) == 20
    assert "size" not in filters.options and "" not in filters.options
    assert ShopFilters.from_args(MultiDict(filters.to_args())) == filters
    with as_store(app, catalog_store):
        assert shop_search("", filters).total == 0  # the 20 types kept include "Bags", but no product has o0..o19
        clean = ShopFilters.from_args(MultiDict([("type", "Bags"), ("price", " 2500 - 5000 ")]))
        assert (clean.price_min, clean.price_max) == (2500, 5000)
        assert shop_search("", clean).total == sum(1 for r in _facts() if r["type"] == "bags"
                                                   and 2500 <= r["price"] < 5000)


def test_toggling_a_facet_value_keeps_the_other_filters():
    filters = ShopFilters.from_args(MultiDict([("vendor", "Acme"), ("opt.size", "M"), ("price", "-2500")]))
    assert filters.toggle("vendor", "Cobalt").to_args() == [
        ("vendor", "Acme"), ("vendor", "Cobalt"), ("price", "-2500"), ("opt.size", "M")]
    assert filters.toggle("vendor", "acme").toggle("opt.size", "M").to_args() == [("price", "-2500")]
    assert filters.toggle("price", "2500-5000").price_min == 2500
    assert filters.toggle("in_stock", "1").to_args()[-1] == ("in_stock", "1")


def test_long_hostile_text_is_searched_as_words(app, catalog_store):
    with as_store(app, catalog_store):
        long = shop_search("tote " * 300, ShopFilters())
        assert long.query == " ".join(["tote"] * 20) and long.total == 12
        assert len(shop_search("x" * 1000, ShopFilters()).query) == 200
        for text in ('title:(', '"', "*", "AND OR NOT", "tote AND", "(tote", "tote~2", "t?te", "[a TO z]",
                     "vendor:acme", "\x00tote\x1f", "tote^9", "-tote", "🙂", "ẞ", "%", "\\"):
            results = shop_search(text, ShopFilters())  # never an error
            assert results.total == len(results.product_ids) or results.total > 24, text
        assert shop_search("(tote", ShopFilters()).total == 12
        assert shop_search("\x00tote\x1f", ShopFilters()).query == "tote"
        assert [s.handle for s in suggest("title:(")] == []  # no product has "title" in its title


def test_only_active_products_are_returned(app, catalog_store):
    with as_store(app, catalog_store):
        everything = ids("tote", per_page=100) + [s.handle for s in suggest("canvas tote", limit=20)]
        assert "canvas-tote-draft" not in everything and len(ids("draft")) == 0


def test_a_collection_restricts_the_search(app, catalog_store):
    with as_store(app, catalog_store):
        chosen = frozenset(ids("tote", per_page=100)[:3])
        assert set(ids("", ShopFilters(within=chosen), per_page=100)) == chosen
        assert ids("scarf", ShopFilters(within=chosen)) == []
        assert ids("", ShopFilters(within=frozenset())) == []


def test_a_store_never_sees_another_stores_products(app, new_store):
    first, second = two_stores_in_one_schema(new_store)
    with as_store(app, first):
        mine = make("Harbor lantern", stock=1, vendor="Lumen").id
        run_effects()
    with as_store(app, second):
        make("Forest mug", stock=1)
        run_effects()
        assert ids("lantern") == [] and suggest("lant") == []
        results = shop_search("", ShopFilters())
        assert results.total == 1 and all(v.label != "Lumen" for f in results.facets for v in f.values)
    with as_store(app, first):
        assert ids("lantern") == [mine] and ids("mug") == []


def test_an_index_of_a_store_without_products_or_being_built(app, new_store):
    store = new_store()
    with as_store(app, store):
        assert shop_search("anything", ShopFilters()).total == 0 and suggest("any") == []
        make("Quiet lamp", stock=1)
        db.session.commit()  # the outbox has not run: no index yet
        assert not index_dir(store.id).exists()
        with pytest.raises(SearchUnavailable):
            shop_search("lamp", ShopFilters())
        with pytest.raises(SearchUnavailable):
            suggest("lam")
        browsing = shop_search("", ShopFilters())  # browsing needs no index: the database answers
        assert browsing.total == 1 and len(browsing.product_ids) == 1 and browsing.facets == []
        run_effects()
        assert len(ids("lamp")) == 1


def test_the_results_follow_index_updates(app, new_store):
    with as_store(app, new_store()):
        lamp = make("Quiet lamp", stock=0)
        run_effects()
        assert shop_search("", ShopFilters(in_stock=True)).total == 0
        inventory.adjust(lamp.variants[0].id, inventory.create_location("Main").id, "1", reason="received", actor=ACTOR)
        run_effects()
        assert ids("", ShopFilters(in_stock=True)) == [lamp.id]
        catalog.update_product(catalog.get_product(lamp.id), {"title": "Bright lantern"}, actor=ACTOR)
        run_effects()
        assert ids("lamp") == [] and ids("lantern") == [lamp.id]
        assert [f.values[0].label for f in shop_search("", ShopFilters()).facets if f.key == "price"] == [
            "Under $25.00"]


def test_a_facet_value_is_the_merchants_spelling(app, new_store):
    store = new_store(currency="EUR")
    with as_store(app, store):
        make("Deck chair", options=[OptionSpec("Fabric, outdoor", ["Navy: dark", "Sand"])], vendor="Öko Möbel",
             price="60", track_inventory=False)
        run_effects()
        facets = {f.key: f for f in shop_search("", ShopFilters()).facets}
        [option_key] = [key for key in facets if key.startswith("opt.")]
        assert facets[option_key].label == "Fabric outdoor"  # (a comma would split the index's tokens)
        assert {v.label for v in facets[option_key].values} == {"Navy: dark", "Sand"}
        assert facets["vendor"].values[0].label == "Öko Möbel"
        assert facets["price"].values[0].label == price_buckets("EUR", store.locale)[2].label
        assert "50" in facets["price"].values[0].label and "100" in facets["price"].values[0].label
        chosen = ShopFilters().toggle(option_key, "navy: dark")
        assert shop_search("", chosen).total == 1


@pytest.mark.parametrize("slotted", [views.SLOTTED, 0])
def test_after_updates_in_new_segments_results_and_facets_still_agree_with_the_database(app, catalog_store,
                                                                                        monkeypatch, slotted):
    monkeypatch.setattr(views, "SLOTTED", slotted)  # new documents slotted into the largest part's order, or merged
    with as_store(app, catalog_store):
        shop_search("", ShopFilters())  # a view of the first generation, whose parts the next ones reuse
        [first_part] = views.view_of(catalog_store).parts
        totes = ids("tote", per_page=100)
        for n, product_id in enumerate(totes[:4]):  # each write is a generation with a segment of its own
            catalog.update_product(catalog.get_product(product_id), {"vendor": f"Newcomer {n % 2}"}, actor=ACTOR)
            run_effects()
            parts = views.view_of(catalog_store).parts
            assert parts[0] is first_part and len(parts) == n + 2  # (whoosh may merge small segments later)
        catalog.update_product(catalog.get_product(totes[4]), {"status": "draft"}, actor=ACTOR)
        run_effects()
        rows = _facts()
        for word, args in [("", {}), ("tote", {"vendor": ["Newcomer 1", "Acme"]}), ("", {"opt.size": ["L"]})]:
            filters = ShopFilters.from_args(MultiDict([(k, v) for k, vs in args.items() for v in vs]))
            results = shop_search(word, filters, per_page=100)
            assert len(results.product_ids) == len(set(results.product_ids))  # a replaced document is gone
            assert set(results.product_ids) == {r["id"] for r in rows if _passes(r, filters, word)}
            assert _shown_counts(results, "vendor") == _expected_counts(rows, filters, word, "vendor",
                                                                        lambda r: [r["vendor"]])
        assert totes[4] not in ids("tote", per_page=100)
        by_newest = ids("", sort="newest", per_page=100)
        assert by_newest == sorted(by_newest, reverse=True)
        rows = {row["id"]: row for row in _facts()}
        by_price = ids("", sort="price_asc", per_page=100)
        assert by_price == sorted(rows, key=lambda i: (rows[i]["price"], i))


@pytest.mark.parametrize("sort", ["relevance", "price_asc", "price_desc", "newest", "title"])
def test_browsing_while_the_index_is_built_lists_what_the_index_would(app, catalog_store, sort):
    cases = [ShopFilters.from_args(MultiDict([(k, v) for k, vs in args.items() for v in vs]))
             for word, args in FILTER_CASES if not word]
    with as_store(app, catalog_store):
        within = frozenset(ids("tote", per_page=100)[:5])
        cases.append(ShopFilters(within=within, in_stock=True))
        from_index = [shop_search("", filters, sort=sort, per_page=7, page=2) for filters in cases]
        shutil.rmtree(index_dir(catalog_store.id))
        from_database = [shop_search("", filters, sort=sort, per_page=7, page=2) for filters in cases]
    for indexed, listed in zip(from_index, from_database):
        assert (listed.product_ids, listed.total) == (indexed.product_ids, indexed.total)
