"""Modelled token cost of a multi-turn chat with and without prompt caching, per catalog model.

No model is called: the cost is the kit's own ``request_cost`` at the catalog's prices, and
whether a cache point is placed is decided by the kit's own ``add_cache_points`` (so a system
prompt under a model's minimum gets no cache point, as in production).

Workload (the defaults; each is an option):
  - one conversation of ``--turns`` user turns sharing one system prompt of
    ``--system-tokens`` tokens, each user message ``--user-tokens`` and each answer
    ``--answer-tokens`` long; every turn resends the whole history, as Converse requires;
  - turns come within the cache lifetime (5 minutes), so turn 1 writes the system prompt to
    the cache and every later turn reads it;
  - the kit places one cache point, after the system prompt (no tools in the chat API); the
    growing history is not cached.

Usage: ``.venv/bin/python bench/prompt_caching.py [--turns 10] [--system-tokens 6000] ...``
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda")]

from kit_runtime.contracts.catalog import ModelFacts  # noqa: E402
from kit_runtime.contracts.chat import CachingSettings  # noqa: E402
from kit_runtime.metering import request_cost  # noqa: E402
from kit_runtime.options import CHARS_PER_TOKEN, add_cache_points  # noqa: E402
from stacks.catalog import load_catalog  # noqa: E402
from stacks.catalog.runtime_facts import runtime_catalog  # noqa: E402


def conversation_cost(
    facts: ModelFacts, *, turns: int, system: int, user: int, answer: int, cached: bool
) -> tuple[float, bool]:
    """USD of one conversation, and whether a cache point was placed."""
    prices = facts.prices_for(None)
    arguments = {"system": [{"text": "x" * (system * CHARS_PER_TOKEN)}]}
    placed = cached and add_cache_points(arguments, facts.prompt_caching, CachingSettings()) > 0
    total = 0.0
    history = 0
    for turn in range(turns):
        history += user
        if placed:
            read, write, plain = (0, system, history) if turn == 0 else (system, 0, history)
        else:
            read, write, plain = 0, 0, system + history
        cost = request_cost(prices, plain, answer, cache_read_tokens=read, cache_write_tokens=write)
        total += cost.total_usd
        history += answer
    return total, placed


def main(argv: list[str] | None = None) -> None:
    """Print the cost table for every catalog chat model with prompt caching."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--system-tokens", type=int, default=6000)
    parser.add_argument("--user-tokens", type=int, default=150)
    parser.add_argument("--answer-tokens", type=int, default=300)
    args = parser.parse_args(argv)
    catalog = runtime_catalog(load_catalog())
    print(
        f"prompt caching cost model, {date.today().isoformat()}: {args.turns} turns, system "
        f"{args.system_tokens} tokens, user {args.user_tokens}, answer {args.answer_tokens} "
        "(catalog on-demand in-region/geo prices, USD per conversation)"
    )
    print(f"{'model':44} {'min':>5} {'without':>10} {'with':>10} {'saved':>7}")
    for model_id, facts in sorted(catalog.models.items()):
        if facts.kind != "chat" or facts.prompt_caching is None:
            continue
        common = {
            "turns": args.turns,
            "system": args.system_tokens,
            "user": args.user_tokens,
            "answer": args.answer_tokens,
        }
        without, _ = conversation_cost(facts, cached=False, **common)
        with_cache, placed = conversation_cost(facts, cached=True, **common)
        saved = 1 - with_cache / without if without else 0.0
        note = "" if placed else "  (below the minimum: no cache point)"
        print(
            f"{model_id:44} {facts.prompt_caching.min_tokens_per_cache_point:>5} "
            f"{without:>10.5f} {with_cache:>10.5f} {saved:>6.1%}{note}"
        )


if __name__ == "__main__":
    main()
