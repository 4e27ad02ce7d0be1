"""Init data signed the way Telegram signs it for a Mini App.

data_check_string: the fields but `hash`, sorted by key, `key=value` joined by newlines;
secret key: HMAC-SHA256 of the bot token with the key "WebAppData"; hash: HMAC-SHA256 of the
data_check_string with that secret, in hex.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import quote, urlencode


def sign_init_data(
    token: str,
    user_id: int,
    *,
    first_name: str = "Test",
    language_code: str | None = "zh-CN",
    auth_date: float | None = None,
    **fields: str,
) -> str:
    """The init data query string for `user_id`, signed with `token` at `auth_date` (now)."""
    user: dict[str, object] = {"id": user_id, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    values = {
        "auth_date": str(int(auth_date if auth_date is not None else time.time())),
        "query_id": f"AAH{user_id}",
        "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
        **fields,
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(values.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    values["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(values, quote_via=quote)


def fragment(init_data: str, theme: dict[str, str] | None = None) -> str:
    """The URL fragment Telegram opens a Mini App with."""
    parts = {"tgWebAppData": init_data, "tgWebAppVersion": "8.0", "tgWebAppPlatform": "unknown"}
    if theme:
        parts["tgWebAppThemeParams"] = json.dumps(theme)
    return "#" + urlencode(parts, quote_via=quote)
