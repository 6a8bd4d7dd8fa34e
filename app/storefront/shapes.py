"""What storefront templates see: plain, read-only views of the catalog.

Templates (a merchant's included) never get ORM rows: a view holds only the
fields a shopper may see (availability as a yes/no, never stock counts) and
cannot lazy-load anything, so a page's queries are the loader's, not one per
variant or image.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from app.catalog.models import Collection, Product, ProductImage, Variant
from app.catalog.images import url as media_url


@dataclass(frozen=True)
class Image:
    key: str
    alt: str
    width: int
    height: int

    @property
    def src(self) -> str:
        return media_url(self.key)

    def srcset(self) -> str:
        """The two thumbnails and the original, for <img srcset>."""
        sizes = [(media_url(self.key, 160), 160), (media_url(self.key, 640), 640)]
        return ", ".join(f"{address} {width}w" for address, width in sizes if width < self.width) + \
            f"{', ' if self.width > 160 else ''}{self.src} {self.width}w"


@dataclass(frozen=True)
class VariantView:
    id: int
    title: str
    options: tuple[str, ...]
    price: int
    compare_at_price: int | None
    available: bool
    image_id: int | None
    sku: str

    @property
    def on_sale(self) -> bool:
        return bool(self.compare_at_price and self.compare_at_price > self.price)


@dataclass(frozen=True)
class OptionView:
    name: str
    position: int
    values: tuple[str, ...]


@dataclass(frozen=True)
class Rating:
    average: float  # 1.0-5.0, one decimal
    count: int


@dataclass(frozen=True)
class ProductCard:
    """A product in a grid: enough for a card, nothing per variant."""

    id: int
    handle: str
    url: str
    title: str
    vendor: str
    product_type: str
    price_min: int
    price_max: int
    compare_at_price: int | None  # the highest "was" price above price_min, for a sale badge
    available: bool
    image: Image | None
    hover_image: Image | None
    rating: Rating | None = None

    @property
    def on_sale(self) -> bool:
        return bool(self.compare_at_price and self.compare_at_price > self.price_min)

    @property
    def price_varies(self) -> bool:
        return self.price_min != self.price_max


@dataclass(frozen=True)
class ProductView(ProductCard):
    description_html: Markup = Markup("")
    tags: tuple[str, ...] = ()
    options: tuple[OptionView, ...] = ()
    variants: tuple[VariantView, ...] = ()
    images: tuple[Image, ...] = ()
    selected: VariantView | None = None
    seo_title: str = ""
    seo_description: str = ""

    @property
    def selected_image(self) -> Image | None:
        """The selected variant's image, else the first."""
        if self.selected is not None and self.selected.image_id is not None:
            for image_id, image in zip(self._image_ids, self.images, strict=False):
                if image_id == self.selected.image_id:
                    return image
        return self.images[0] if self.images else None

    _image_ids: tuple[int, ...] = field(default=(), repr=False)

    def value_available(self, position: int, value: str) -> bool:
        """Whether some available variant has this option value (with the
        selected variant's other values, when one is selected)."""
        for variant in self.variants:
            if len(variant.options) < position or variant.options[position - 1] != value or not variant.available:
                continue
            if self.selected is None or all(
                    variant.options[i] == self.selected.options[i]
                    for i in range(len(variant.options)) if i != position - 1 and i < len(self.selected.options)):
                return True
        return False


@dataclass(frozen=True)
class CollectionView:
    id: int
    handle: str
    url: str
    title: str
    description_html: Markup
    image: Image | None = None


def image_view(image: ProductImage) -> Image:
    return Image(image.storage_key, image.alt or "", image.width, image.height)


def _variant_available(variant: Variant, stock: dict[int, int]) -> bool:
    return not variant.track_inventory or stock.get(variant.id, 0) > 0


def card(product: Product, stock: dict[int, int], url: str, rating: Rating | None = None) -> ProductCard:
    return card_of(product.id, product.handle, url, product.title, product.vendor, product.product_type,
                   [(v.price, v.compare_at_price) for v in product.variants],
                   any(_variant_available(v, stock) for v in product.variants),
                   [image_view(image) for image in product.images[:2]], rating)


def card_of(product_id: int, handle: str, url: str, title: str, vendor: str, product_type: str,
            prices: list[tuple[int, int | None]], available: bool, images: list[Image],
            rating: Rating | None = None) -> ProductCard:
    """A card from plain values: each variant's (price, compare-at price), whether
    one is available, and the product's first two images."""
    amounts = [price for price, _ in prices] or [0]
    compare = [was for price, was in prices if was and was > price]
    return ProductCard(
        id=product_id, handle=handle, url=url, title=title, vendor=vendor, product_type=product_type,
        price_min=min(amounts), price_max=max(amounts), compare_at_price=max(compare) if compare else None,
        available=available, image=images[0] if images else None,
        hover_image=images[1] if len(images) > 1 else None, rating=rating)


def product_view(product: Product, stock: dict[int, int], url: str, selected_id: int | None = None,
                 rating: Rating | None = None) -> ProductView:
    base = card(product, stock, url, rating)
    variants = tuple(VariantView(v.id, v.title, v.option_values, v.price, v.compare_at_price,
                                 _variant_available(v, stock), v.image_id, v.sku or "") for v in product.variants)
    selected = next((v for v in variants if v.id == selected_id), None)
    if selected is None:  # the first available variant, as shops preselect
        selected = next((v for v in variants if v.available), variants[0] if variants else None)
    return ProductView(
        **{name: getattr(base, name) for name in ProductCard.__dataclass_fields__},
        description_html=Markup(product.description_html or ""), tags=tuple(product.tags or ()),
        options=tuple(OptionView(o.name, o.position, tuple(o.values)) for o in product.options),
        variants=variants, images=tuple(image_view(i) for i in product.images), selected=selected,
        seo_title=product.seo_title or "", seo_description=product.seo_description or "",
        _image_ids=tuple(i.id for i in product.images))


def collection_view(collection: Collection, url: str) -> CollectionView:
    return CollectionView(collection.id, collection.handle, url, collection.title,
                          Markup(collection.description_html or ""))
