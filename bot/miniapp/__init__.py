"""The Telegram Mini App: phone-sized forms and lists served by the bot's own aiohttp server.

`auth` checks Telegram's signed init data and finds the account bound to the Telegram user;
`server` mounts the static pages under `/app/` and the JSON routes under `/app/api/`. Every
route reads and writes through `workflow/`, as the chat does, so a refusal is the same rule and
the same text in both.
"""
