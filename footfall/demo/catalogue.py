"""The demo shop, Wool & Co: its products, pages, campaigns and referrers, and the devices
and places its visitors come from. Data only, so the simulation reads as behaviour and the
shop can change without touching it."""

from __future__ import annotations

from dataclasses import dataclass

SHOP = "https://shop.example.com"
CURRENCY = "EUR"
LIBRARY = {"name": "footfall-demo", "version": "0.1.0"}


@dataclass(frozen=True)
class Device:
    """A browser on a screen, as a visitor's events describe it."""

    user_agent: str
    screen: tuple[int, int, float]  # width, height, pixel density
    viewport: tuple[int, int]
    tall: float  # how much longer a page is at this width than on a desktop


# Each device with its weight among the visitors.
DEVICES: tuple[tuple[Device, int], ...] = (
    (Device("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/130.0.0.0 Safari/537.36", (1920, 1080, 1.0), (1903, 945), 1.0), 30),
    (Device("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Safari/605.1.15", (1512, 982, 2.0), (1512, 860), 1.1), 14),
    (Device("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
            (1366, 768, 1.0), (1349, 657), 1.15), 8),
    (Device("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0", (1920, 1080, 1.0), (1903, 945), 1.0), 6),
    (Device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.0 Mobile/15E148 Safari/604.1", (390, 844, 3.0), (390, 664), 2.6), 24),
    (Device("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/130.0.0.0 Mobile Safari/537.36", (412, 915, 2.625), (412, 783), 2.5), 13),
    (Device("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.0 Mobile/15E148 Safari/604.1", (820, 1180, 2.0), (820, 1106), 1.6), 5),
)

# Each locale's country, and a network registered in that country for its visitors'
# addresses, so the demo's events are placed where its visitors live.
LOCALES = (
    ("en-GB", "GB", "86.128"),
    ("en-US", "US", "73.0"),
    ("de-DE", "DE", "79.192"),
    ("fr-FR", "FR", "90.0"),
    ("nl-NL", "NL", "77.160"),
    ("es-ES", "ES", "80.24"),
    ("ru-RU", "RU", "95.24"),
    ("vi-VN", "VN", "113.160"),
)
# The membership plans identified visitors are on, with their weights.
PLANS = (("free", 6), ("pro", 3), ("team", 1))
# What identified visitors tell about themselves, each value with its weight: the
# demographic traits segments and personas read.
GENDERS = (("female", 48), ("male", 46), ("non-binary", 3), ("undisclosed", 3))
OCCUPATIONS = (("engineer", 5), ("teacher", 3), ("student", 4), ("designer", 2), ("nurse", 2),
               ("retail", 3), ("manager", 3), ("retired", 2), ("freelancer", 2))
INCOME_BANDS = (("<25k", 3), ("25-50k", 5), ("50-100k", 4), ("100k+", 2))


@dataclass(frozen=True)
class ShopProduct:
    """One thing the shop sells."""

    product_id: str
    slug: str
    name: str
    category: str
    price_cents: int


PRODUCTS = (
    ShopProduct("p-100", "merino-runner", "Merino Runner", "shoes", 11900),
    ShopProduct("p-101", "trail-boot", "Trail Boot", "shoes", 16900),
    ShopProduct("p-200", "wool-socks", "Wool Socks (3 pack)", "accessories", 2400),
    ShopProduct("p-201", "canvas-tote", "Canvas Tote", "accessories", 3500),
    ShopProduct("p-300", "rain-shell", "Rain Shell", "outerwear", 18900),
    ShopProduct("p-301", "down-vest", "Down Vest", "outerwear", 13900),
)
BLOG_POSTS = (
    ("launch-week", "Launch week: what we shipped"),
    ("how-we-source-wool", "How we source our wool"),
    ("shoe-care-guide", "A care guide for wool shoes"),
    ("summer-lookbook", "Summer lookbook"),
)

Link = tuple[str, str, str, str]
"""A clickable element: its selector, tag, text, and the path it leads to (or "")."""


@dataclass(frozen=True)
class ShopPage:
    """One page of the shop and what can be clicked on it."""

    path: str
    title: str
    height: int  # on a desktop, in CSS pixels
    links: tuple[Link, ...] = ()


NAV: tuple[Link, ...] = (
    ('header nav a[href="/"]', "a", "Home", "/"),
    ('header nav a[href="/pricing"]', "a", "Pricing", "/pricing"),
    ('header nav a[href="/cart"]', "a", "Cart", "/cart"),
)
PRODUCT_PATHS = tuple(f"/product/{p.slug}" for p in PRODUCTS)
BLOG_PATHS = tuple(f"/blog/{slug}" for slug, _ in BLOG_POSTS)
PAGES: dict[str, ShopPage] = {
    "/": ShopPage("/", "Wool & Co — shoes and outerwear", 3200, NAV + (
        ("main .hero a.btn-primary", "a", "Shop the range", PRODUCT_PATHS[0]),
        ('main .featured a[href^="/product/"]', "a", PRODUCTS[4].name, PRODUCT_PATHS[4]),
        ('main .stories a[href^="/blog/"]', "a", "Read the story", BLOG_PATHS[1]),
        ("footer form.newsletter button", "button", "Subscribe", ""),
    )),
    "/pricing": ShopPage("/pricing", "Membership pricing — Wool & Co", 2400, NAV + (
        ("main .plan--pro button.choose", "button", "Choose Pro", ""),
        ("main .faq details:nth-of-type(2) summary", "summary", "Can I cancel anytime?", ""),
        ("main .plans a.btn", "a", "Browse products", PRODUCT_PATHS[1]),
    )),
    "/cart": ShopPage("/cart", "Your cart — Wool & Co", 1400, NAV + (
        ("main .cart a.checkout", "a", "Checkout", "/checkout"),
        ("main .cart button.quantity-plus", "button", "+", ""),
    )),
    "/checkout": ShopPage("/checkout", "Checkout — Wool & Co", 1800, (
        ("form.checkout input#email", "input", "", ""),
        ("form.checkout button#place-order", "button", "Place order", ""),
        ("main a.back-to-cart", "a", "Back to cart", "/cart"),
    )),
    **{path: ShopPage(path, f"{product.name} — Wool & Co", 2800, NAV + (
        ("main .product button.add-to-cart", "button", "Add to cart", "/cart"),
        ("main .product .gallery img:nth-of-type(2)", "img", "", ""),
        ("main .product details.sizing summary", "summary", "Size guide", ""),
        ('main .related a[href^="/product/"]', "a", "You may also like", ""),
    )) for path, product in zip(PRODUCT_PATHS, PRODUCTS)},
    **{path: ShopPage(path, f"{title} — Wool & Co", 5200, NAV + (
        ('article a[href^="/product/"]', "a", "Shop the look", PRODUCT_PATHS[2]),
        ("article .share button.copy-link", "button", "Copy link", ""),
    )) for path, (_, title) in zip(BLOG_PATHS, BLOG_POSTS)},
}
PLACE_ORDER = PAGES["/checkout"].links[1]

CAMPAIGNS = (
    # source, medium, name, landing path, referrer
    ("newsletter", "email", "spring_sale", PRODUCT_PATHS[4], None),
    ("google", "cpc", "brand_search", "/", "https://www.google.com/"),
    ("instagram", "social", "summer_lookbook", BLOG_PATHS[3], "https://l.instagram.com/"),
    ("partner_blog", "referral", "wool_guide", PRODUCT_PATHS[0], "https://outdoors.example.org/best-wool-shoes"),
)
# What each campaign costs a day, in CURRENCY, by its name: the costs the demo imports, so
# CAC and CLV:CAC have something to divide by. The social campaign is the expensive one.
CAMPAIGN_DAILY_COST = {"spring_sale": 4.0, "brand_search": 12.0, "summer_lookbook": 90.0, "wool_guide": 6.0}
# Each referrer with the pages its links land on.
REFERRERS = (
    ("https://www.google.com/", (PRODUCT_PATHS[0], PRODUCT_PATHS[1], BLOG_PATHS[2], "/")),
    ("https://duckduckgo.com/", (PRODUCT_PATHS[0], BLOG_PATHS[2])),
    ("https://news.ycombinator.com/", (BLOG_PATHS[1], BLOG_PATHS[0])),
    ("https://www.reddit.com/r/BuyItForLife/", (PRODUCT_PATHS[1], BLOG_PATHS[1])),
    ("https://t.co/", (BLOG_PATHS[3], PRODUCT_PATHS[4])),
)
