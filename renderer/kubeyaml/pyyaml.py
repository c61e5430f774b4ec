"""PyYAML, imported by the pxsec process with the patterns it compiles at import deferred.

`import yaml` compiles ten regular expressions: yaml.reader's NON_PRINTABLE (a class spanning
all of Unicode: about 10 ms), the pure-Python resolver's implicit-tag patterns and the
constructor's timestamp. That is half of what `import yaml` costs, and more than a small render's
own work. pxsec reads with libyaml's C parser and resolves plain scalars with its own go-yaml
rules (kyaml); PyYAML's patterns are used only by its pure-Python reader (never on pxsec's paths)
and, one first character at a time, by the dumper's check that a plain string would not read
back as another type.

`import_pyyaml()` imports yaml while `re.compile`, called from one of yaml's own modules, returns
a `lazyre.Lazy`: the same pattern, compiled on first use. yaml behaves exactly as before: PyYAML
only calls `.match` and `.search` on them, which a Lazy answers as its pattern does (it is no
re.Pattern to isinstance or re.match); only the compile moves to the first match.
Patterns compiled by any other module, in this thread or another, are compiled at once as always;
`re.compile` is put back whatever happens; and when yaml is already imported (pxsec used as a
library) nothing is done. Only main() calls it: importing a pxsec module never patches anything.
"""
from __future__ import annotations

import sys

# the modules whose import-time patterns are deferred: PyYAML's package and its submodules
PACKAGE = "yaml"


def import_pyyaml():
    """The `yaml` module: imported now, its import-time patterns deferred (see the module doc)."""
    module = sys.modules.get(PACKAGE)
    if module is not None:
        return module
    import re

    compile_now = re.compile
    compile_deferred = deferring(compile_now)
    re.compile = compile_deferred
    try:
        import yaml
    finally:
        if re.compile is compile_deferred:
            re.compile = compile_now
    return yaml


def deferring(compile_now):
    """`re.compile` as PyYAML's modules see it while import_pyyaml imports them: a str pattern
    compiled from one of their frames becomes a Lazy; any other call is `compile_now`'s."""
    from ..lazyre import Lazy

    prefix = PACKAGE + "."

    def compile_deferred(pattern, flags=0):
        caller = sys._getframe(1).f_globals.get("__name__") or ""
        if (caller == PACKAGE or caller.startswith(prefix)) and isinstance(pattern, str):
            return Lazy(pattern, flags)
        return compile_now(pattern, flags)

    return compile_deferred
