"""The ceiling of bench/api.py: a bare FastAPI endpoint returning a constant.

Served by uvicorn with the settings ``kosiflow serve`` uses:
``python bench/ceiling.py --port P --workers N``.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

from kosiflow.cli.serve import SERVER_OPTIONS

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/")
async def constant() -> dict[str, str]:
    """What a request costs with nothing behind it (no token, no database, no threads)."""
    return {"status": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "ceiling:app", host="127.0.0.1", port=args.port, workers=args.workers, **SERVER_OPTIONS
    )


if __name__ == "__main__":
    main()
