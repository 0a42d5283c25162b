"""The ``groundup`` command: ``groundup train RECIPE``, ``groundup eval CHECKPOINT``,
``groundup generate CHECKPOINT``, ``groundup recipes``.

Each flag of ``train`` overrides one field of the recipe (see ``groundup recipes``); the run's
folder (``--out``, default ``runs/RECIPE``) receives checkpoints, history, plots and results, and
``--resume`` continues from its ``last.safetensors`` exactly where the run stopped. ``generate``
continues ``--prompt`` with a language-model checkpoint (the recipe inside says which model) and
prints the prompt and its continuation; ``--seed`` makes the sample repeatable. A recipe's target is
shown as a percentage for accuracy-like metrics and as a plain number (an upper bound) for loss-like
ones (``val_loss``, ``test_perplexity``, ...).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from groundup.recipes import Recipe


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="groundup", description="Train, evaluate and sample from groundup recipes.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a recipe")
    t.add_argument("recipe", help="recipe name (see `groundup recipes`)")
    t.add_argument("--epochs", type=int)
    t.add_argument("--steps", type=int, help="train for this many optimizer steps instead")
    t.add_argument("--lr", type=float)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "rmsprop", "adagrad", "nadam"])
    t.add_argument("--schedule", choices=["none", "step", "cosine", "exponential", "onecycle"])
    t.add_argument("--seed", type=int)
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="extra",
                   help="set the recipe's extra[KEY] (VALUE as JSON if it parses, else a string); repeatable, "
                        "e.g. --set n_train=1000 --set 'augment={\"shift\": 1}'")
    t.add_argument("--out", help="output folder (default runs/RECIPE)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/last.safetensors")
    t.add_argument("--no-progress", action="store_true", help="print one line per epoch instead of a bar")
    t.add_argument("--threads", type=int, help="BLAS threads (default: GROUNDUP_NUM_THREADS or the library's)")
    e = sub.add_parser("eval", help="evaluate a checkpoint written by `groundup train`")
    e.add_argument("checkpoint")
    g = sub.add_parser("generate", help="continue a prompt with a language-model checkpoint")
    g.add_argument("checkpoint")
    g.add_argument("--prompt", default="", help="text to continue (default: start from nothing)")
    g.add_argument("--max-new-tokens", type=int, default=500, help="tokens to generate (default 500)")
    g.add_argument("--temperature", type=float, default=1.0,
                   help="<1 sharpens, >1 flattens the distribution; 0 is greedy (default 1.0)")
    g.add_argument("--top-k", type=int, help="sample only among the k most likely tokens")
    g.add_argument("--top-p", type=float, help="sample only among the most likely tokens of total probability p")
    g.add_argument("--seed", type=int, help="seed for a repeatable sample (default: fresh randomness)")
    sub.add_parser("recipes", help="list the recipes")
    return p


def _positive(name: str, value: float | None) -> None:
    if value is not None and value <= 0:
        raise SystemExit(f"groundup train: --{name} must be positive, got {value}")


def _extra(pairs: Sequence[str], extra: dict) -> dict:
    """``extra`` updated with ``KEY=VALUE`` pairs; values parse as JSON when they can (numbers, lists, dicts)."""
    out = dict(extra)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"groundup train: --set expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _target(r: Recipe, name: bool) -> str:
    """``r.target`` as text: a percentage for accuracy-like metrics, a plain number for loss-like ones;
    ``name`` prefixes the metric (without ``test_``) when it is not plain test accuracy."""
    value = str(float(r.target)) if r.lower_is_better else f"{r.target:.1%}"
    if not name or r.metric == "test_accuracy":
        return value
    return f"{r.metric.removeprefix('test_')} {value}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from groundup.recipes import RECIPES, get_recipe

    if args.command == "recipes":
        width = max(map(len, RECIPES))
        for r in RECIPES.values():
            target = f"  (target {_target(r, name=True)})" if r.target is not None else ""
            print(f"{r.name:<{width}}  {r.description}{target}")
        return 0

    from groundup.recipes import run

    if args.command == "eval":
        try:
            res = run.evaluate(args.checkpoint)
        except (OSError, ValueError) as e:
            print(f"groundup eval: {e}", file=sys.stderr)
            return 2
        metric = res["metric"]
        print(f"{res['recipe']}: {metric.replace('_', ' ')} {res[metric]:.4f} on {res['test_size']} examples")
        return 0

    if args.command == "generate":
        try:
            text = run.generate(args.checkpoint, args.prompt, max_new_tokens=args.max_new_tokens,
                                temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, seed=args.seed)
        except (OSError, ValueError) as e:
            print(f"groundup generate: {e}", file=sys.stderr)
            return 2
        print(args.prompt + text)
        return 0

    try:
        recipe = get_recipe(args.recipe)
    except KeyError as e:
        print(f"groundup train: {e.args[0]}", file=sys.stderr)
        return 2
    for name in ("epochs", "steps", "lr", "batch_size"):
        _positive(name.replace("_", "-"), getattr(args, name))
    changes = {k: getattr(args, k) for k in ("epochs", "steps", "lr", "batch_size", "optimizer", "schedule", "seed")
               if getattr(args, k) is not None}
    if args.epochs is not None and args.steps is None:
        changes["steps"] = None
    if args.extra:
        changes["extra"] = _extra(args.extra, recipe.extra)
    recipe = recipe.replace(**changes)
    if args.threads:
        import groundup

        groundup.set_num_threads(args.threads)
    out = args.out or f"runs/{recipe.name}"
    try:
        res = run.train(recipe, out, resume=args.resume, progress=False if args.no_progress else True)
    except (OSError, ValueError, ImportError) as e:
        print(f"groundup train: {e}", file=sys.stderr)
        return 2
    metric = recipe.metric
    ran = f" after {res['epochs_run']} epochs" if "epochs_run" in res else ""
    target = f" (target {_target(recipe, name=False)})" if recipe.target is not None else ""
    print(f"\n{recipe.name}: {metric.replace('_', ' ')} {res[metric]:.4f}{ran} in {res['seconds']:.1f} s{target}")
    if "checkpoint" in res:
        print(f"checkpoint: {res['checkpoint']}")
    for name, path in (res.get("plots") or {}).items():
        if path:
            print(f"plot ({name.replace('_', ' ')}): {path}")
    print(f"results: {res['results']}")
    print(json.dumps({k: res[k] for k in (metric, "seconds", "reached_target")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
