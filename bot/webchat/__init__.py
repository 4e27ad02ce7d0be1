"""The sandbox in a browser: a web chat with the bot running against the Bot API emulator,
with personas for every role of the workflow and a demo clock.

`bot.sandbox_web.run_web_sandbox` starts it; `routes` serves the page (`static/`) and its API;
`personas` prepares the people one can play; `clock` is the clock everything shares.
"""
