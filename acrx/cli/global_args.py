"""Global options accepted after the subcommand too: `acrx plan --sandbox DIR -v` is read as
`acrx --sandbox DIR -v plan`.

Click reads an option only at the level that declares it, and the global ones (--sandbox, -v,
-q, --no-color, --record) live on the root. No subcommand declares any of these names, so
moving them in front of the command path changes nothing else; `--` ends the options as usual.
"""

from __future__ import annotations

FLAGS = frozenset({"-v", "--verbose", "-q", "--quiet", "--no-color"})
WITH_VALUE = frozenset({"--sandbox", "--record"})


def _is_global(arg: str) -> bool:
    if arg in FLAGS or arg.split("=", 1)[0] in WITH_VALUE:
        return True
    return len(arg) > 2 and arg[0] == "-" and arg[1] != "-" and set(arg[1:]) <= {"v", "q"}   # -vv, -vq


def lift(args: list[str]) -> list[str]:
    """`args` with every global option that follows the first subcommand moved to the front."""
    head: list[str] = []
    rest: list[str] = []
    seen_command = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if not seen_command:
            if not arg.startswith("-"):
                seen_command = True
                rest.append(arg)
            else:
                head.append(arg)
                if arg in WITH_VALUE and i + 1 < len(args):   # the root's own value, kept in place
                    head.append(args[i + 1])
                    i += 1
        elif _is_global(arg):
            head.append(arg)
            if arg in WITH_VALUE and i + 1 < len(args):
                head.append(args[i + 1])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return head + rest
