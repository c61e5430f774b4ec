"""kubeyaml/pyyaml.py: the pxsec process imports PyYAML with its import-time patterns deferred.

PyYAML must behave exactly as a normally imported PyYAML does; only when its patterns compile
may change. Each case runs in a fresh interpreter: the test process has imported yaml already."""
from __future__ import annotations

import json
import re

from clirunner import run_python
from conftest import ROOT
from pxsec.kubeyaml.pyyaml import deferring
from pxsec.lazyre import Lazy

SPEC = str(ROOT / "examples" / "spec.yaml")
EXAMPLE = str(ROOT / "examples" / "portworx.yaml")

# every pattern yaml compiles at import: the reader's, the resolver's (one list per first
# character; each pattern is in several) and the constructor's
PATTERNS = ("[yaml.reader.Reader.NON_PRINTABLE, yaml.constructor.SafeConstructor.timestamp_regexp]"
            " + [r for rs in yaml.resolver.Resolver.yaml_implicit_resolvers.values() for _, r in rs]")


def _run(code: str) -> dict:
    r = run_python(code)
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


def test_only_a_str_pattern_compiled_from_yamls_own_modules_is_deferred():
    compile_deferred = deferring(re.compile)
    for module, pattern, lazy in (("yaml", "a+", True), ("yaml.resolver", "^(?:~|null)$", True),
                                  ("yamlish", "a+", False), ("pxsec.render.stream", "a+", False),
                                  (None, "a+", False), ("yaml.reader", b"a+", False)):
        scope = {"compile": compile_deferred, "pattern": pattern}
        if module is not None:
            scope["__name__"] = module
        exec("result = compile(pattern)", scope)  # a frame whose module is `module`
        assert isinstance(scope["result"], Lazy) is lazy, module
        if not lazy:
            assert isinstance(scope["result"], re.Pattern)
    exec("result = compile('a+', re.I)", scope := {"__name__": "yaml.x", "compile": compile_deferred, "re": re})
    assert scope["result"].match("AAA").group() == "AAA"  # the flags go with it


def test_import_defers_yamls_patterns_and_puts_re_compile_back():
    out = _run("import json, re, sys; compile_before = re.compile; "
               "from pxsec.kubeyaml.pyyaml import import_pyyaml; from pxsec.lazyre import Lazy; "
               "yaml = import_pyyaml(); "
               f"patterns = {PATTERNS}; "
               "print(json.dumps({'restored': re.compile is compile_before, 'same': sys.modules['yaml'] is yaml, "
               "'count': len({id(p) for p in patterns}), "
               "'lazy': all(isinstance(p, Lazy) and '_compiled' not in vars(p) for p in patterns)}))")
    assert out == {"restored": True, "same": True, "count": 10, "lazy": True}


def test_an_already_imported_yaml_is_left_as_it_is():
    out = _run("import json, re, yaml; from pxsec.kubeyaml.pyyaml import import_pyyaml; "
               f"patterns = {PATTERNS}; "
               "print(json.dumps({'same': import_pyyaml() is yaml, "
               "'compiled': all(isinstance(p, re.Pattern) for p in patterns)}))")
    assert out == {"same": True, "compiled": True}


def test_a_failed_import_still_puts_re_compile_back():
    out = _run("import json, re, sys\n"
               "class Refuse:\n"
               "    def find_spec(self, name, path=None, target=None):\n"
               "        if name == 'yaml.constructor': raise ImportError('refused')\n"
               "sys.meta_path.insert(0, Refuse()); compile_before = re.compile\n"
               "from pxsec.kubeyaml.pyyaml import import_pyyaml\n"
               "try:\n    import_pyyaml(); failed = False\n"
               "except ImportError:\n    failed = True\n"
               "print(json.dumps({'failed': failed, 'restored': re.compile is compile_before}))")
    assert out == {"failed": True, "restored": True}


# PyYAML's pure-Python reader, resolver, constructor and dumper over values each pattern decides
SCALARS = ["yes", "No", "on", "OFF", "true", "~", "null", "", "1_000", "0b101", "0o17", "017", "0x1F", "-12",
           "+1", "190:20:30", "1.5e+3", ".inf", "-.Inf", ".nan", "6.8523015e+5", "685.230_15e+03", "<<", "=",
           "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2002-12-14",
           "portworx", "-jwt_issuer", "1.2.3", "12:30", "!", "&", "*", "a\u2028b"]
USE_PATTERNS = ("import json, yaml\n"
                f"scalars = {SCALARS!r}\n"
                "def load(s):\n"
                "    try:\n        return repr(yaml.load(s, Loader=yaml.SafeLoader))\n"
                "    except yaml.YAMLError as e:\n        return str(e)\n"
                "out = {'load': [load(s) for s in scalars] + [load('[%s]' % s) for s in scalars],\n"
                "       'dump': [yaml.dump(s, Dumper=yaml.SafeDumper) for s in scalars],\n"
                "       'dump_all': yaml.safe_dump({s: [s] for s in scalars}),\n"
                "       'errors': []}\n"
                "for bad in ('a: \\x07', 'b: \\ufffe', 'c: [\\x1b]'):\n"
                "    try:\n        yaml.load(bad, Loader=yaml.SafeLoader)\n"
                "    except yaml.YAMLError as e:\n        out['errors'].append(str(e))\n"
                "out['used'] = sum('_compiled' in vars(p) for p in ")


def test_deferred_patterns_decide_as_compiled_ones_do():
    deferred = _run("from pxsec.kubeyaml.pyyaml import import_pyyaml; from pxsec.lazyre import Lazy; "
                    "import_pyyaml()\n" + USE_PATTERNS + PATTERNS + " if isinstance(p, Lazy))\n"
                    "print(json.dumps(out))")
    plain = _run(USE_PATTERNS + "[])\nprint(json.dumps(out))")
    assert deferred.pop("used") >= 8 and plain.pop("used") == 0  # the values above did reach the patterns
    assert len(deferred["errors"]) == 3 and "special characters are not allowed" in deferred["errors"][0]
    assert deferred == plain


def test_main_imports_yaml_deferred_and_renders_the_same_bytes():
    argv = ["render", "-s", SPEC, EXAMPLE]
    code = ("import sys{first}; from pxsec.main import main; rc = main(%r); import yaml; "
            "p = yaml.reader.Reader.NON_PRINTABLE; "
            "print(type(p).__name__, '_compiled' in getattr(p, '__dict__', {{}}), file=sys.stderr); sys.exit(rc)"
            % (argv,))
    fresh = run_python(code.format(first=""))  # as the pxsec command runs: main() imports yaml
    before = run_python(code.format(first=", yaml"))  # yaml imported first, as a library user's program would
    assert fresh.returncode == before.returncode == 0, (fresh.stderr, before.stderr)
    assert fresh.stderr.strip().endswith(b"Lazy False"), fresh.stderr
    assert before.stderr.strip().endswith(b"Pattern False"), before.stderr
    assert fresh.stdout == before.stdout and b"PORTWORX_AUTH_SYSTEM_KEY" in fresh.stdout
