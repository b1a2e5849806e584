"""What the demo's customers say when they answer a survey: a score on the survey's scale,
from how satisfied they are, and often a comment in their own language about what
matters to them (delivery, price, support, quality), praise or complaint as the score
goes. Pure: everything follows from the generator it is given."""

from __future__ import annotations

import random
from typing import Any

from schemas.surveys import SCALES

# Each theme's comments by language: praise first, then complaints.
Comments = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
THEMES: dict[str, Comments] = {
    "delivery": {
        "en": (("Delivery was fast, the parcel came two days early.", "Quick shipping and careful packaging."),
               ("The delivery took almost two weeks and nobody told me why.",
                "The courier lost my parcel and I had to wait for a second one.")),
        "ru": (("Доставка очень быстрая, посылка пришла на два дня раньше.", "Быстрая доставка и аккуратная упаковка."),
               ("Доставка заняла почти две недели, никто не объяснил почему.", "Курьер потерял посылку, пришлось ждать вторую.")),
        "vi": (("Giao hàng rất nhanh, gói hàng đến sớm hai ngày.", "Giao hàng nhanh và đóng gói cẩn thận."),
               ("Giao hàng mất gần hai tuần mà không ai giải thích.",
                "Người giao hàng làm mất gói hàng, tôi phải chờ gói thứ hai.")),
    },
    "price": {
        "en": (("A fair price for wool this good.", "With the discount it was a great deal."),
               ("Too expensive compared with other shops.", "Shipping costs more than the socks, far too pricey.")),
        "ru": (("Честная цена за такую хорошую шерсть.", "Со скидкой получилось очень выгодно."),
               ("Слишком дорого по сравнению с другими магазинами.", "Доставка стоит дороже носков, цены завышены.")),
        "vi": (("Giá hợp lý cho len chất lượng tốt như vậy.", "Có giảm giá nên mua rất hời."),
               ("Giá quá đắt so với các cửa hàng khác.", "Phí vận chuyển còn đắt hơn đôi tất, giá quá cao.")),
    },
    "support": {
        "en": (("Support answered within an hour and solved my problem.", "Friendly help with exchanging the size."),
               ("Support never replied to my emails.", "I waited forty minutes in the chat without an answer.")),
        "ru": (("Поддержка ответила за час и решила мою проблему.", "Вежливо помогли обменять размер."),
               ("Поддержка так и не ответила на мои письма.", "Ждал ответа в чате сорок минут, никто не ответил.")),
        "vi": (("Bộ phận hỗ trợ trả lời trong một giờ và giải quyết được vấn đề.", "Nhân viên nhiệt tình giúp tôi đổi cỡ."),
               ("Bộ phận hỗ trợ không bao giờ trả lời email của tôi.", "Tôi chờ trên chat bốn mươi phút mà không ai trả lời.")),
    },
    "quality": {
        "en": (("The shoes are comfortable and warm, great quality.", "Beautiful wool, the stitching is perfect."),
               ("The sole came off after a month.", "The socks got holes after two washes.")),
        "ru": (("Кроссовки удобные и тёплые, отличное качество.", "Красивая шерсть, швы идеальные."),
               ("Подошва отклеилась через месяц.", "Носки порвались после двух стирок.")),
        "vi": (("Giày êm và ấm, chất lượng tuyệt vời.", "Len đẹp, đường may hoàn hảo."),
               ("Đế giày bị bong sau một tháng.", "Tất bị thủng sau hai lần giặt.")),
    },
}
# How often each theme is what a customer cares about most.
CONCERNS = (("delivery", 3), ("price", 3), ("support", 2), ("quality", 2))
# Locales whose visitors write in their own language; everyone else writes English.
LANGUAGES = {"ru": "ru", "vi": "vi"}
# A score from this share of its scale up comes with praise, below it with a complaint.
PRAISE_FROM = 0.6
COMMENT_CHANCE = 0.6
# How often a comment is about the customer's own concern rather than any theme.
ON_CONCERN = 0.7


def language_of(locale: str) -> str:
    return LANGUAGES.get(locale.split("-")[0], "en")


def score(rng: random.Random, survey: str, mood: float) -> int:
    """A whole score on the survey's scale: the customer's mood (0 unhappy, 1 delighted),
    give or take the day's humour."""
    low, high = SCALES[survey]
    felt = min(max(mood + rng.gauss(0, 0.12), 0.0), 1.0)
    return low + round(felt * (high - low))


def comment(rng: random.Random, survey: str, given: int, concern: str, language: str) -> str:
    """Praise or a complaint, as the score goes, about the concern or now and then another theme."""
    low, high = SCALES[survey]
    theme = concern if rng.random() < ON_CONCERN else rng.choice(list(THEMES))
    praise, complaints = THEMES[theme][language]
    return rng.choice(praise if (given - low) / (high - low) >= PRAISE_FROM else complaints)


def answer(rng: random.Random, survey: str, mood: float, concern: str, locale: str) -> dict[str, Any]:
    """The properties of one `Survey Responded` event."""
    given = score(rng, survey, mood)
    properties: dict[str, Any] = {"survey": survey, "score": given}
    if rng.random() < COMMENT_CHANCE:
        properties["comment"] = comment(rng, survey, given, concern, language_of(locale))
    return properties
