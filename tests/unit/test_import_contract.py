"""The layers' import contract (README, "Project layout"):

* a :mod:`sim.model` module never loads duckdb, altair, pandas or streamlit (checked in a fresh
  interpreter per module, in ``sys.modules`` after importing it);
* nothing in :mod:`sim` loads streamlit;
* lower layers never import higher ones: sim.model <- sim.data <- sim.present / sim.cli <- ui <-
  app_pages (checked on every import statement, those inside functions included);
* ``python -m sim --help`` needs neither numpy, scipy nor DuckDB.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from ..conftest import ROOT

HEAVY_FOR_THE_MODEL = ("duckdb", "altair", "pandas", "streamlit")
#: What each part of the project may import from the project (its own part included).
ALLOWED = {
    "sim.errors": set(),
    "sim.lazy_exports": set(),              # a package's names loaded on first use
    "sim.model": {"sim.errors", "sim.model"},
    "sim.data": {"sim.errors", "sim.lazy_exports", "sim.model", "sim.data"},
    "sim.present": {"sim.errors", "sim.model", "sim.data", "sim.present"},
    "sim.cli": {"sim.errors", "sim.model", "sim.data", "sim.cli"},
    "sim": {"sim"},                        # the package itself and __main__
    "ui": {"sim", "ui"},
    "app_pages": {"sim", "ui"},
}


def modules(package: str) -> list[str]:
    folder = ROOT.joinpath(*package.split("."))
    names = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


#: Run in a fresh interpreter: import numpy and scipy once (the model may load them), then
#: fork one child per module, which imports it and reports which watched modules are loaded.
#: A fresh process per module, without paying scipy's import in each.
_PROBE = """
import json, os, sys
modules, watched = json.loads(sys.argv[1]), json.loads(sys.argv[2])
import numpy, scipy.optimize, scipy.special, scipy.stats
assert not [m for m in watched if m in sys.modules], "the probe itself loaded a watched module"
found = {}
for module in modules:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        __import__(module)
        os.write(write, json.dumps(sorted(m for m in watched if m in sys.modules)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    found[module] = json.loads(text) if status == 0 else "import failed"
print(json.dumps(found))
"""


def loaded_by_each(modules_: list[str], watched) -> dict[str, list[str]]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(modules_), json.dumps(list(watched))],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def loaded_alone(module: str, watched) -> list[str]:
    """The watched modules loaded by importing ``module`` alone in a fresh interpreter."""
    code = (f"import json, sys; import {module}; "
            f"print(json.dumps(sorted(m for m in {list(watched)!r} if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_no_model_module_loads_storage_tables_or_the_app():
    model = modules("sim.model")
    assert len(model) > 10 and "sim.model.checkin" in model and "sim.model.scenario" in model
    assert loaded_by_each(model, HEAVY_FOR_THE_MODEL) == {m: [] for m in model}


def test_no_module_of_sim_loads_streamlit():
    everything = [m for m in modules("sim") if m != "sim.__main__"]
    code = ("import importlib, sys\n"
            f"for m in {everything!r}: importlib.import_module(m)\n"
            "print('streamlit' in sys.modules, 'duckdb' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]        # everything imported; streamlit not among it


def test_the_command_line_parser_loads_no_numerics_and_no_database():
    """Nor the import's machinery (sim.data.ingest's names load on first use): about 0.1 s of
    every command that imports nothing."""
    code = ("import json, sys; from sim.cli.parsing import build_parser; build_parser(); "
            "print(json.dumps(sorted(m for m in ('numpy', 'scipy', 'duckdb', 'pandas', 'sim.data.ingest.batch',"
            " 'sim.data.ingest.workbook', 'sim.data.ingest.checks') if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def imported_modules(path: Path, module: str) -> set[str]:
    """Every project module ``path`` imports (absolute or relative, at any depth)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            out.add(target)
            out |= {f"{target}.{a.name}" for a in node.names}      # "from sim import model"
    return {m for m in out if m.split(".")[0] in ("sim", "ui", "app_pages")}


def part_of(module: str) -> str:
    for part in sorted(ALLOWED, key=len, reverse=True):
        if module == part or module.startswith(part + "."):
            return part
    raise AssertionError(module)


def layer_violations() -> list[str]:
    files = [(p, m) for pkg in ("sim", "ui") for m in modules(pkg)
             for p in [ROOT.joinpath(*m.split(".")).with_suffix(".py")
                       if ROOT.joinpath(*m.split(".")).with_suffix(".py").exists()
                       else ROOT.joinpath(*m.split("."), "__init__.py")]]
    files += [(p, f"app_pages.{p.stem}") for p in sorted((ROOT / "app_pages").glob("*.py"))]
    bad = []
    for path, module in files:
        allowed = ALLOWED[part_of(module)]
        for target in sorted(imported_modules(path, module)):
            if target in ("sim", "ui"):             # the packages' own (lazy) entry points
                continue
            if not any(target == a or target.startswith(a + ".") for a in allowed):
                bad.append(f"{module} imports {target}")
    return bad


def test_lower_layers_never_import_higher_ones():
    assert layer_violations() == []


def test_the_layer_check_sees_a_violation(tmp_path, monkeypatch):
    """The check is not vacuous: a model module importing the data layer is caught."""
    checkin = ROOT / "sim" / "model" / "checkin.py"
    text = checkin.read_text(encoding="utf-8")
    original = Path.read_text

    def read_text(self, *args, **kwargs):
        if self == checkin:
            return text + "\nfrom ..data.store import Store\n"
        return original(self, *args, **kwargs)
    monkeypatch.setattr(Path, "read_text", read_text)
    assert layer_violations() == ["sim.model.checkin imports sim.data.store",
                                  "sim.model.checkin imports sim.data.store.Store"]


def test_light_entry_points_do_not_load_scipy():
    """``import sim`` and the command line's entry point load neither numpy nor scipy (the
    model's types and the Markdown escaper neither)."""
    code = ("import json, sys; import sim, sim.cli, sim.present.markdown, sim.model.scenario; "
            "print(json.dumps(sorted(m for m in ('numpy', 'scipy', 'duckdb') if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
