"""The ``skmtl`` command line: demo and compare, run through ``skmtl.cli.main``."""

import re

import numpy as np
import pytest

from skmtl.cli import available_models, format_table, main

pd = pytest.importorskip("pandas")


def _table_rows(out):
    """Rows of the first printed table: {first cell: [numbers]}."""
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) > 1 and all(re.fullmatch(r"-?\d+\.\d+\*?|nan", p) for p in parts[1:]):
            rows.setdefault(parts[0], [float(p.rstrip("*")) for p in parts[1:]])
    return rows


def test_demo_prints_per_task_table_and_mtl_wins(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    rows = _table_rows(out)
    assert {str(t) for t in range(12)} | {"mean"} <= set(rows)
    header = next(line for line in out.splitlines() if line.startswith("task"))
    assert "Independent RidgeCV" in header
    if any(m in available_models() for m in ("l21", "trace", "dirty")):
        m = re.search(r"mean R\^2 (-?\d+\.\d+) vs (-?\d+\.\d+)", out)
        assert m and float(m.group(1)) > float(m.group(2)) + 0.1


@pytest.fixture
def csv_files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    Y = X @ rng.normal(size=(3, 2)) + 0.3 * rng.normal(size=(40, 2))
    wide = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y1=Y[:, 0], y2=Y[:, 1])
    wide.loc[::7, "y2"] = np.nan
    long = pd.DataFrame(np.vstack([X, X]), columns=["a", "b", "c"])
    long["school"] = np.repeat(["north", "south"], 40)
    long["score"] = np.concatenate([Y[:, 0], Y[:, 1]])
    wide.to_csv(tmp_path / "wide.csv", index=False)
    long.to_csv(tmp_path / "long.csv", index=False)
    return tmp_path


def test_compare_wide_with_plots(csv_files, capsys):
    plots = csv_files / "plots"
    models = [m for m in ("l21",) if m in available_models()]
    argv = ["compare", str(csv_files / "wide.csv"), "--targets", "y1", "y2", "--cv", "3", "--plots", str(plots)]
    assert main(argv + (["--models", *models] if models else [])) == 0
    out = capsys.readouterr().out
    rows = _table_rows(out)
    assert {"y1", "y2", "mean"} <= set(rows)
    n_cols = 2 + len(models)
    assert all(len(v) == n_cols for v in rows.values())
    # a linear problem with little noise: the per-task model explains most of it
    assert rows["y1"][0] > 0.6
    if models:
        assert (plots / "transfer.png").exists() and (plots / "support_l21.png").exists()


def test_compare_long(csv_files, capsys):
    argv = ["compare", str(csv_files / "long.csv"), "--task-column", "school", "--target", "score",
            "--cv", "3", "--models", "independent", "pooled"]
    assert main(argv) == 0
    rows = _table_rows(capsys.readouterr().out)
    assert {"north", "south", "mean"} <= set(rows)
    assert rows["mean"][0] == pytest.approx(np.mean([rows["north"][0], rows["south"][0]]), abs=2e-3)


def test_compare_errors(csv_files):
    with pytest.raises(SystemExit, match="not in"):
        main(["compare", str(csv_files / "wide.csv"), "--targets", "nope"])
    with pytest.raises(SystemExit, match="--targets"):
        main(["compare", str(csv_files / "wide.csv")])
    with pytest.raises(SystemExit, match="unknown model"):
        main(["compare", str(csv_files / "wide.csv"), "--targets", "y1", "--models", "magic"])


def test_format_table_marks_best():
    text = format_table(["0", "mean"], ["A", "B"], np.array([[0.1, 0.5], [0.2, np.nan]]))
    lines = text.splitlines()
    assert lines[2].split() == ["0", "0.100", "0.500*"]
    assert lines[-1].split() == ["mean", "0.200*", "nan"]


def test_version(capsys):
    from skmtl import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"skmtl {__version__}"


def _one_line_error(capsys, argv, match):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    code, err = exc.value.code, capsys.readouterr().err
    message = code if isinstance(code, str) else err
    assert code != 0 and code is not None
    assert "Traceback" not in message and len(message.strip().splitlines()) == 1
    assert re.search(match, message), message


def test_missing_or_unreadable_file_is_one_line_error(csv_files, capsys):
    _one_line_error(capsys, ["compare", str(csv_files / "nope.csv"), "--targets", "y1"], r"nope\.csv.*not found")
    _one_line_error(capsys, ["compare", str(csv_files), "--targets", "y1"], "directory")
    (csv_files / "empty.csv").write_text("")
    _one_line_error(capsys, ["compare", str(csv_files / "empty.csv"), "--targets", "y1"], "cannot read")


def test_missing_file_from_the_command_line_has_no_traceback(tmp_path):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "skmtl.cli", "compare", str(tmp_path / "nope.csv"), "--targets", "y"],
                         capture_output=True, text=True)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr and "not found" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("option, value", [("--cv", "1"), ("--cv", "two"), ("--n-jobs", "0")])
def test_bad_options_are_one_line_errors(csv_files, capsys, option, value):
    _one_line_error(capsys, ["compare", str(csv_files / "wide.csv"), "--targets", "y1", option, value],
                    f"argument {option}")
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(csv_files / "wide.csv"), "--targets", "y1", "--output", "out.txt"])
    assert ".csv or .json" in str(exc.value.code)


def test_every_public_regressor_is_selectable():
    from skmtl.cli import _build_models, public_regressors

    names = list(public_regressors())
    assert {"L21Regressor", "ReducedRankRegressorCV", "TraceNormRegressor", "MultiTaskARDRegressor"} <= set(names)
    models, labels, skipped = _build_models(names, None)
    assert set(models) | set(skipped) == set(names)
    models, _, _ = _build_models([n.lower() for n in names if n not in skipped], "task")
    assert all(m.get_params()["task_column"] == "task" for m in models.values())


@pytest.mark.parametrize("ext", ["csv", "json"])
def test_output_file_and_class_name_models(csv_files, capsys, ext):
    import json

    out = csv_files / f"results.{ext}"
    argv = ["compare", str(csv_files / "wide.csv"), "--targets", "y1", "y2", "--cv", "3",
            "--models", "ReducedRankRegressor", "--output", str(out)]
    assert main(argv) == 0
    rows = _table_rows(capsys.readouterr().out)
    if ext == "csv":
        table = pd.read_csv(out)
        assert list(table.columns) == ["task", "Independent RidgeCV", "Pooled RidgeCV", "ReducedRankRegressor"]
        got = table.set_index("task").to_numpy()
        assert list(table["task"]) == ["y1", "y2", "mean"]
    else:
        records = json.loads(out.read_text())
        assert [r["task"] for r in records] == ["y1", "y2", "mean"]
        got = np.array([[r[c] for c in ("Independent RidgeCV", "Pooled RidgeCV", "ReducedRankRegressor")]
                        for r in records])
    np.testing.assert_allclose(got, np.array([rows[k] for k in ("y1", "y2", "mean")]), atol=6e-4)
