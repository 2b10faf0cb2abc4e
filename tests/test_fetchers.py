"""Dataset fetchers, served from ../shared/data by a local HTTP server (no real download)."""

import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from skmtl.datasets import _fetchers
from skmtl.datasets._fetchers import (
    fetch_computer_survey,
    fetch_mulan,
    fetch_parkinsons,
    fetch_school,
    get_data_home,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is absent")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def serve():
    """Start an HTTP server on 127.0.0.1 for a folder; returns its base URL."""
    servers = []

    def start(folder):
        handler = functools.partial(_Quiet, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def shared_url(serve):
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    return serve(SHARED)


DEAD_URL = "http://127.0.0.1:9"  # discard port: nothing listens, like being offline


@needs_data
@pytest.mark.data
def test_parkinsons_long_wide_and_cache(shared_url, tmp_path):
    X, y, task = fetch_parkinsons(data_home=tmp_path, base_url=shared_url, return_X_y=True)
    assert X.shape == (5875, 19) and y.shape == (5875,)
    counts = np.bincount(task)[np.unique(task)]
    assert len(counts) == 42 and counts.min() == 101 and counts.max() == 168
    assert (tmp_path / "parkinsons" / "parkinsons_updrs.data").exists()
    # second call: from the cache, no network needed
    b = fetch_parkinsons(layout="wide", data_home=tmp_path, base_url=DEAD_URL)
    assert b.target.shape == (5875, 2) and b.task is None
    assert b.target_names == ["motor_UPDRS", "total_UPDRS"] and "subject#" not in b.feature_names
    np.testing.assert_array_equal(b.target[:, 0], y)


@needs_data
@pytest.mark.data
def test_computer_survey(shared_url, tmp_path):
    b = fetch_computer_survey(data_home=tmp_path, base_url=shared_url)
    assert b.data.shape == (20, 14) and b.target.shape == (20, 190)
    assert np.all(b.data[:, 0] == 1) and set(np.unique(b.data[:, 1:])) == {-1.0, 1.0}
    X, y, task = fetch_computer_survey(layout="long", data_home=tmp_path, return_X_y=True)
    assert X.shape == (3800, 14) and np.bincount(task).tolist() == [20] * 190
    np.testing.assert_array_equal(y[:20], b.target[:, 0])


@needs_data
@pytest.mark.data
def test_mulan_wide_long_and_missing_inputs(shared_url, tmp_path):
    X, Y = fetch_mulan("edm", data_home=tmp_path, base_url=shared_url, return_X_y=True)
    assert X.shape == (154, 16) and Y.shape == (154, 2)
    b = fetch_mulan("scpf", data_home=tmp_path, base_url=shared_url)
    assert b.target.shape == (1137, 3) and np.isnan(b.data).any()  # missing inputs stay NaN
    # long layout: one row per (sample, target), grouped by target
    Xl, yl, tl = fetch_mulan("edm", layout="long", data_home=tmp_path, return_X_y=True)
    assert Xl.shape == (308, 16) and np.bincount(tl).tolist() == [154, 154]
    np.testing.assert_array_equal(yl[tl == 1], Y[:, 1])
    np.testing.assert_array_equal(Xl[tl == 1], X)


@needs_data
@pytest.mark.data
def test_env_var_and_checksum_mismatch(shared_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SKMTL_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"
    bad = dict(_fetchers.MULAN_DATASETS)
    bad["edm"] = (2, bad["edm"][1], "0" * 64)
    monkeypatch.setattr(_fetchers, "MULAN_DATASETS", bad)
    with pytest.raises(OSError, match="SHA-256"):
        fetch_mulan("edm", base_url=shared_url)
    assert not (tmp_path / "env" / "mulan_mtr" / "edm.arff").exists()
    # module-level mirror
    monkeypatch.setattr(_fetchers, "MULAN_DATASETS", dict(_fetchers.MULAN_DATASETS, edm=(2, "", None)))
    monkeypatch.setattr(_fetchers, "BASE_URL", shared_url)
    assert fetch_mulan("edm").target.shape == (154, 2)


def test_offline_message_says_where_to_put_the_file(tmp_path):
    with pytest.raises(OSError, match=r"offline.*mulan_mtr[/\\]edm\.arff"):
        fetch_mulan("edm", data_home=tmp_path, base_url=DEAD_URL)
    with pytest.raises(OSError, match="download_if_missing=False"):
        fetch_parkinsons(data_home=tmp_path, download_if_missing=False)
    with pytest.raises(ValueError, match="Unknown MULAN"):
        fetch_mulan("nope", data_home=tmp_path)


def test_school_parses_malsar_cells(serve, tmp_path):
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    sizes = np.full(139, 110)
    sizes[:72] = 111  # 139 schools, 15,362 students, as in MALSAR's school.mat
    assert sizes.sum() == 15362

    def write(folder, n_schools):
        Xc = np.empty((1, n_schools), dtype=object)
        Yc = np.empty((1, n_schools), dtype=object)
        for t in range(n_schools):
            Xc[0, t] = rng.normal(size=(sizes[t], 4))
            Yc[0, t] = rng.normal(size=(sizes[t], 1))
        (folder / "school").mkdir(parents=True)
        savemat(folder / "school" / "school.mat", {"X": Xc, "Y": Yc})
        return Yc

    mirror = tmp_path / "mirror"
    Yc = write(mirror, 139)
    X, y, task = fetch_school(data_home=tmp_path / "cache", base_url=serve(mirror), return_X_y=True)
    assert X.shape == (15362, 4) and task[:112].tolist() == [0] * 111 + [1]
    assert np.bincount(task).tolist() == sizes.tolist()
    np.testing.assert_allclose(y[111:222], Yc[0, 1].ravel())
    # a file of another shape is rejected with what was expected
    bad = tmp_path / "bad"
    write(bad, 3)
    with pytest.raises(ValueError, match=r"not the ILEA school data: expected 139 schools and 15362 students"):
        fetch_school(data_home=tmp_path / "cache2", base_url=serve(bad))
    with pytest.raises(ValueError, match="long"):
        fetch_school(layout="wide", data_home=tmp_path / "cache")
