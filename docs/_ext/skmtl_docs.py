"""Sphinx extension that generates the skmtl API reference and benchmark pages.

At the start of every build (``config-inited``) it

* imports every public skmtl module, reads its ``__all__`` and writes one API
  page per module (``api/<module>.rst``, autosummary tables) plus
  ``api/index.rst``. A module that fails to import (the Gaussian processes
  need torch) gets a short page that says so and why, and a warning (fatal
  under ``-W``);
* writes ``benchmarks/_results.inc.rst``, which includes every table saved in
  ``benchmarks/results/*.md`` (or ``*.rst``), or says "not yet run";
* records the set of available names in the config value ``skmtl_available``
  so that an incremental build re-reads every page when it changes.

It adds the role ``:model:`Name``` that links to a public estimator when it
exists and, when it does not, prints it marked *planned* and warns; and a directive
``.. skmtl-availability::`` that tables every module's status.

The build is strict: under ``-W`` every warning is fatal, those raised while
parsing skmtl docstrings included. A known module that cannot be imported,
and a ``:model:`` name that is not public, are reported as warnings too, so a
missing family fails the build instead of degrading it silently.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import shutil
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx import addnodes
from sphinx.util import logging as sphinx_logging

LOG = sphinx_logging.getLogger(__name__)

#: Modules in the order the API reference shows them, with a title. Other
#: public submodules of skmtl found at build time are appended after these.
KNOWN_MODULES = [
    ("skmtl", "Baselines (skmtl)"),
    ("skmtl.linear", "Linear multi-task models (skmtl.linear)"),
    ("skmtl.factorization", "Matrix factorization (skmtl.factorization)"),
    ("skmtl.bayes", "Bayesian models (skmtl.bayes)"),
    ("skmtl.gaussian_process", "Gaussian processes (skmtl.gaussian_process)"),
    ("skmtl.model_selection", "Model selection (skmtl.model_selection)"),
    ("skmtl.datasets", "Data sets (skmtl.datasets)"),
    ("skmtl.metrics", "Metrics (skmtl.metrics)"),
    ("skmtl.plotting", "Plotting (skmtl.plotting)"),
]
#: Documented on a developer page (the estimator contract).
DEVELOPER_MODULES = [("skmtl.base", "Estimator bases (skmtl.base)")]
#: Never listed (no public Python API).
SKIP_MODULES = {"skmtl.cli", "skmtl.baselines"}  # baselines: documented under skmtl


@dataclass
class ModuleInfo:
    name: str
    title: str
    ok: bool = False
    error: str = ""
    doc: str = ""
    sections: dict = field(default_factory=dict)  # section title -> [names]

    @property
    def n_names(self):
        return sum(len(v) for v in self.sections.values())


def _classify(obj):
    if inspect.isclass(obj):
        try:
            from sklearn.base import BaseEstimator

            if issubclass(obj, BaseEstimator):
                return "Estimators and transformers"
        except ImportError:  # pragma: no cover
            pass
        if issubclass(obj, BaseException):
            return "Exceptions and warnings"
        return "Classes"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj) or callable(obj) and hasattr(obj, "__wrapped__"):
        return "Functions"
    if inspect.isroutine(obj):
        return "Functions"
    return "Objects"


SECTION_ORDER = ["Estimators and transformers", "Classes", "Functions", "Objects",
                 "Exceptions and warnings"]
TEMPLATE = {"Estimators and transformers": "class.rst", "Classes": "class.rst",
            "Exceptions and warnings": "class.rst", "Functions": "function.rst",
            "Objects": "object.rst"}


def _discover():
    """Known modules first, then any other public submodule of skmtl."""
    mods = list(KNOWN_MODULES)
    seen = {m for m, _ in mods} | {m for m, _ in DEVELOPER_MODULES} | SKIP_MODULES
    try:
        import skmtl

        for info in pkgutil.iter_modules(skmtl.__path__):
            full = f"skmtl.{info.name}"
            if info.name.startswith("_") or full in seen:
                continue
            mods.append((full, full))
    except Exception:  # noqa: BLE001 - skmtl itself broken: reported per module
        pass
    return mods


def scan_api():
    """Import every public module; return ([ModuleInfo], [ModuleInfo developer])."""
    seen_ids = {}
    infos = []
    # subpackages first so that a name re-exported at the top level is
    # documented where it lives; the page order is restored below
    order = _discover()
    todo = [m for m in order if m[0] != "skmtl"] + [m for m in order if m[0] == "skmtl"]
    for name, title in todo + DEVELOPER_MODULES:
        info = ModuleInfo(name, title)
        try:
            mod = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any failure means "not available"
            info.error = f"{type(exc).__name__}: {exc}".strip()
            LOG.warning(f"[skmtl_docs] {name} not importable: {info.error}",
                        type="skmtl", subtype="import")
            infos.append(info)
            continue
        info.ok = True
        info.doc = (inspect.getdoc(mod) or "").split("\n\n")[0]
        for attr in getattr(mod, "__all__", None) or []:
            try:
                obj = getattr(mod, attr)
            except Exception:  # noqa: BLE001 - lazy attribute that fails
                LOG.warning(f"[skmtl_docs] {name}.{attr} listed in __all__ but not importable",
                            type="skmtl", subtype="import")
                continue
            if inspect.ismodule(obj):
                continue
            key = id(obj) if (inspect.isclass(obj) or inspect.isroutine(obj)) else f"{name}.{attr}"
            if key in seen_ids:
                continue
            seen_ids[key] = f"{name}.{attr}"
            info.sections.setdefault(_classify(obj), []).append(attr)
        if not info.n_names and getattr(mod, "__all__", None):
            LOG.warning(f"[skmtl_docs] {name}: nothing public in __all__ could be documented",
                        type="skmtl", subtype="import")
        elif not getattr(mod, "__all__", None) and name in dict(KNOWN_MODULES):
            LOG.warning(f"[skmtl_docs] {name} has an empty __all__", type="skmtl",
                        subtype="import")
        infos.append(info)
    rank = {m: i for i, (m, _) in enumerate(order + DEVELOPER_MODULES)}
    infos.sort(key=lambda i: rank[i.name])
    dev = [i for i in infos if i.name in dict(DEVELOPER_MODULES)]
    public = [i for i in infos if i.name not in dict(DEVELOPER_MODULES)]
    return public, dev


def _underline(text, char):
    return f"{text}\n{char * len(text)}\n"


def _module_page(info):
    lines = [f".. _api-{info.name}:", "", _underline(info.title, "=")]
    if not info.ok:
        lines += [
            f".. module:: {info.name}",
            "   :no-index:",
            "",
            ".. note::",
            "",
            f"   ``{info.name}`` is not available in this build of the documentation:",
            "",
            "   .. code-block:: text",
            "",
            *[f"      {ln}" for ln in info.error.splitlines() or ["(no message)"]],
            "",
            "   Its reference appears here once it can be imported (the Gaussian",
            "   processes need the ``gp`` extra: torch and gpytorch).",
            "",
        ]
        return "\n".join(lines)
    lines += [f".. automodule:: {info.name}", "   :no-members:", "",
              f".. currentmodule:: {info.name}", ""]
    if not info.n_names:
        lines += ["*Nothing public yet: this family has not landed.*", ""]
    for sec in SECTION_ORDER:
        names = info.sections.get(sec)
        if not names:
            continue
        lines += [_underline(sec, "-"), ".. autosummary::", "   :toctree: generated/",
                  f"   :template: {TEMPLATE[sec]}", "", *[f"   {n}" for n in names], ""]
    return "\n".join(lines)


def write_api(srcdir, public, dev):
    api = Path(srcdir) / "api"
    if api.exists():
        shutil.rmtree(api)  # stale stubs of names that disappeared would fail -W
    api.mkdir(parents=True)
    for info in public + dev:
        (api / f"{info.name}.rst").write_text(_module_page(info), encoding="utf-8")
    index = [
        ".. _api:", "", _underline("API reference", "="),
        "Every public name of skmtl, generated from its docstring. The list is",
        "built from what can be imported when the documentation is built; the",
        "table says which families are available in this build.", "",
        ".. skmtl-availability::", "",
        ".. toctree::", "   :maxdepth: 2", "", *[f"   {i.name}" for i in public], "",
        _underline("For developers", "-"),
        "The bases every estimator is built on; see the estimator contract in",
        ":doc:`/dev/contributing`.", "",
        ".. toctree::", "   :maxdepth: 1", "", *[f"   {i.name}" for i in dev], "",
    ]
    (api / "index.rst").write_text("\n".join(index), encoding="utf-8")


def write_benchmarks(srcdir):
    bench = Path(srcdir) / "benchmarks"
    results = bench / "results"
    files = sorted(p for p in results.glob("*") if p.suffix in (".md", ".rst")) if results.is_dir() else []
    out = []
    if not files:
        out += [".. note::", "", "   Benchmarks: not yet run.", ""]
    for p in files:
        text = p.read_text(encoding="utf-8").lstrip()
        if not (p.suffix == ".md" and text.startswith("# ")):  # else the table's own title
            out += [_underline(p.stem, "~"), ""]
        if p.suffix == ".md":
            out += [f".. include:: results/{p.name}", "   :parser: myst_parser.sphinx_", ""]
        else:
            out += [f".. include:: results/{p.name}", ""]
    bench.mkdir(parents=True, exist_ok=True)
    target = bench / "_results.inc.rst"
    text = "\n".join(out)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return [p.name for p in files]


# --------------------------------------------------------------------------
# role and directive
# --------------------------------------------------------------------------

_REGISTRY: dict[str, str] = {}  # short name -> full dotted name
_MODULES: list[ModuleInfo] = []


def model_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``:model:`L21Regressor``` -> a link when it exists, else "L21Regressor (planned)" and a warning."""
    short = text.strip().lstrip("~")
    full = _REGISTRY.get(short)
    if full is None:
        LOG.warning(f"[skmtl_docs] :model:`{short}` is not a public skmtl name",
                    location=(inliner.document.settings.env.docname, lineno),
                    type="skmtl", subtype="model")
        node = nodes.inline(rawtext, "", classes=["skmtl-planned"])
        node += nodes.literal(short, short)
        node += nodes.emphasis(" (planned)", " (planned)")
        return [node], []
    env = inliner.document.settings.env
    ref = addnodes.pending_xref(
        rawtext, refdomain="py", reftype="obj", reftarget=full, refexplicit=True,
        refwarn=False, refdoc=env.docname,
    )
    ref["py:module"] = None
    ref["py:class"] = None
    ref += nodes.literal(short, short, classes=["xref", "py", "py-obj"])
    return [ref], []


class AvailabilityDirective(Directive):
    """A table of every public module with its status in this build."""

    has_content = False

    def run(self):
        table = nodes.table(classes=["skmtl-availability"])
        tgroup = nodes.tgroup(cols=3)
        table += tgroup
        for w in (30, 15, 55):
            tgroup += nodes.colspec(colwidth=w)
        thead = nodes.thead()
        tgroup += thead
        tbody = nodes.tbody()
        tgroup += tbody

        def row(cells, parent):
            r = nodes.row()
            for c in cells:
                entry = nodes.entry()
                entry += c if isinstance(c, nodes.Node) else nodes.paragraph(text=c)
                r += entry
            parent += r

        row(["module", "status", "public names"], thead)
        for info in _MODULES:
            if info.ok:
                status = "available" if info.n_names else "empty (not landed)"
                names = ", ".join(n for sec in SECTION_ORDER for n in info.sections.get(sec, []))
            else:
                status = "not importable"
                names = info.error.splitlines()[0][:120] if info.error else ""
            row([nodes.paragraph("", "", nodes.literal(text=info.name)), status, names or "-"], tbody)
        return [table]


# --------------------------------------------------------------------------


def _on_config_inited(app, config):
    try:
        public, dev = scan_api()
    except Exception:  # pragma: no cover - keep the build alive, say why
        LOG.info("[skmtl_docs] API scan failed:\n" + traceback.format_exc())
        public, dev = [], []
    _MODULES[:] = public
    _REGISTRY.clear()
    for info in public + dev:
        for names in info.sections.values():
            for n in names:
                _REGISTRY.setdefault(n, f"{info.name}.{n}")
    write_api(app.srcdir, public, dev)
    # examples always re-run (run_stale_examples); drop pages of deleted ones
    shutil.rmtree(Path(app.srcdir) / "auto_examples", ignore_errors=True)
    bench = write_benchmarks(app.srcdir)
    config.skmtl_available = tuple(sorted(_REGISTRY.values())) + tuple(f"bench:{b}" for b in bench)
    ok = [i.name for i in public if i.ok and i.n_names]
    LOG.info(f"[skmtl_docs] API: {len(_REGISTRY)} public names from {', '.join(ok) or 'no module'}")


_REQUEST_METHOD = re.compile(r"^set_\w+_request$")


def _skip_member(app, what, name, obj, skip, options):
    """Hide scikit-learn's generated metadata-routing setters (``set_fit_request``...)."""
    if _REQUEST_METHOD.match(name):
        return True
    return None


def setup(app):
    app.add_config_value("skmtl_available", (), "env")
    app.connect("config-inited", _on_config_inited)
    app.connect("autodoc-skip-member", _skip_member)
    app.add_role("model", model_role)
    app.add_directive("skmtl-availability", AvailabilityDirective)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
