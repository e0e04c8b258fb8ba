"""A bare Flask hello-world under waitress: the ceiling the intake is measured against.

    python bench/hello.py --port P --threads 8

Same server, same request threads as `flask serve`; nothing but routing and a response.
"""

from __future__ import annotations

import argparse

from flask import Flask
from waitress import serve

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    serve(app, host="127.0.0.1", port=args.port, threads=args.threads, ident="hello")
