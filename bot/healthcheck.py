"""`python -m bot.healthcheck`: exit 0 when this machine's bot answers GET /healthz with 200.

For a container's HEALTHCHECK (the slim image has no curl): the port is OPS_PORT when set (polling
mode), else WEBHOOK_PORT (webhook mode, where /healthz is served beside the webhook), else 8080.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    port = os.environ.get("OPS_PORT") or os.environ.get("WEBHOOK_PORT") or "8080"
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=8) as response:
            print(response.read().decode(errors="replace"))
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as exc:
        print(f"{exc.code}: {exc.read().decode(errors='replace')}", file=sys.stderr)
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
