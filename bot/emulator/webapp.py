"""What a Telegram client hands a Mini App it opens: the init data signed with the bot's token
(HMAC-SHA256 under HMAC("WebAppData", token), as Telegram does) and the theme, in the URL
fragment of the page."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import quote, urlencode

# Telegram's light theme, as a client passes it.
LIGHT_THEME = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#999999",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#efeff3",
}


def signed_init_data(
    token: str,
    user_id: int,
    *,
    first_name: str = "Test",
    language_code: str | None = "zh-CN",
    auth_date: float | None = None,
    **fields: str,
) -> str:
    """The init data query string for `user_id`, signed with `token` at `auth_date` (now):
    the fields but `hash` sorted by key as `key=value` lines, HMAC-SHA256 under the secret
    HMAC-SHA256("WebAppData", token), in hex."""
    user: dict[str, object] = {"id": user_id, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    values = {
        "auth_date": str(int(auth_date if auth_date is not None else time.time())),
        "query_id": f"AAE{user_id:x}",
        "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
        **fields,
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(values.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    values["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(values, quote_via=quote)


def launch_fragment(init_data: str, theme: dict[str, str] | None = None) -> str:
    """`#tgWebAppData=…&tgWebAppThemeParams=…` for the page's address."""
    parts = {
        "tgWebAppData": init_data,
        "tgWebAppVersion": "8.0",
        "tgWebAppPlatform": "web",
        "tgWebAppThemeParams": json.dumps(theme or LIGHT_THEME, separators=(",", ":")),
    }
    return "#" + urlencode(parts, quote_via=quote)
