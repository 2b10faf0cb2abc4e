"""Shared helpers for the benchmarks: timing, peak memory, markdown tables with versions."""

import importlib
import os
import platform
import resource
import subprocess
import sys
import time

__all__ = ["best_of", "interleaved", "versions_line", "markdown_table", "print_report",
           "run_python", "rss_mb", "maxrss_mb"]


def best_of(fn, repeat=3):
    """``(best wall time in s, result of the last call)`` of ``fn()`` over ``repeat`` calls."""
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def interleaved(fns, repeat=3):
    """Time several callables interleaved (a, b, c, a, b, c, ...); best of ``repeat`` each.

    Interleaving spreads machine noise (other processes) evenly over the peers.
    Returns ``{name: (best_time, last_result)}``; a callable returning the
    string ``"skip: why"`` is run once only.
    """
    res = {name: (float("inf"), None) for name in fns}
    for r in range(repeat):
        for name, fn in fns.items():
            if r and isinstance(res[name][1], str):
                continue
            t0 = time.perf_counter()
            out = fn()
            dt = time.perf_counter() - t0
            res[name] = (min(res[name][0], dt), out)
    return res


def versions_line(packages):
    """``python 3.x | numpy 2.x | ...`` for the given importable package names."""
    parts = [f"python {platform.python_version()}"]
    for name in packages:
        try:
            mod = importlib.import_module(name)
            parts.append(f"{name} {getattr(mod, '__version__', '?')}")
        except ImportError:
            parts.append(f"{name} (not installed)")
    parts.append(f"{os.cpu_count()} CPUs, {platform.machine()}")
    return " | ".join(parts)


def markdown_table(headers, rows):
    """A GitHub markdown table; cells are formatted with ``str``."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = lambda vals: "| " + " | ".join(v.ljust(w) for v, w in zip(vals, widths)) + " |"  # noqa: E731
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells]
    return "\n".join(out)


def print_report(title, headers, rows, packages, notes=()):
    """Print a titled markdown table with the versions line and notes."""
    print(f"\n## {title}\n")
    print(versions_line(packages) + "\n")
    print(markdown_table(headers, rows))
    for note in notes:
        print(f"\n- {note}")
    sys.stdout.flush()


def run_python(code, timeout=600, env=None):
    """Run ``code`` in a fresh interpreter; returns ``(stdout, wall seconds)``."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env=env)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"subprocess failed:\n{proc.stderr[-2000:]}")
    return proc.stdout, dt


def rss_mb():
    """Current resident set size of this process in MiB (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def maxrss_mb():
    """Peak resident set size of this process so far in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def n_alphas_kw(k):
    """scikit-learn's grid-size argument: ``alphas=k`` from 1.7 (``n_alphas`` deprecated), ``n_alphas=k`` before."""
    import sklearn
    from packaging.version import Version

    return {"alphas": k} if Version(sklearn.__version__) >= Version("1.7") else {"n_alphas": k}
