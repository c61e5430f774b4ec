"""Every CLI command, one module each; cli.py wires Typer options to them.

`read_options` is the argv reader of the Typer-free paths (commands/render.py, commands/check.py):
it reads options the way Click does, and gives up (None) on anything it does not know, so that
Typer handles it with its own usage errors.
"""
from __future__ import annotations


def read_options(args: list[str], values: dict, flags: dict, lists: dict | None = None) -> dict | None:
    """{"paths": [...], key: value, ...} for `args` (the words after the command name); `values`,
    `flags` and `lists` map each option (`--spec`, `-s`) to its key. A flag is True when given; a
    value option takes the next word or `--name=value`, the last one wins; a list option collects
    every value. Words after `--`, `-` and words without a leading `-` are paths. None for an
    unknown option, a value option at the end, or `=` on a flag or a short option."""
    lists = lists or {}
    opts: dict = {"paths": [], **{key: [] for key in lists.values()}}
    i, only_paths = 0, False
    while i < len(args):
        a = args[i]
        if only_paths or a == "-" or not a.startswith("-"):
            opts["paths"].append(a)
        elif a == "--":
            only_paths = True
        elif a in flags:
            opts[flags[a]] = True
        else:
            name, eq, value = a.partition("=") if a.startswith("--") else (a, "", "")
            key = values.get(name) or lists.get(name)
            if key is None:
                return None
            if not eq:
                if i + 1 >= len(args):
                    return None
                value = args[i + 1]
                i += 1
            if name in lists:
                opts[key].append(value)
            else:
                opts[key] = value
        i += 1
    return opts
