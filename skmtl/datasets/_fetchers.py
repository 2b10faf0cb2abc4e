"""Fetchers for real multi-task data sets, downloaded once into a local cache.

Each file is downloaded from its public home into
``data_home/<dataset>/<file>`` (``data_home`` argument, else the ``SKMTL_DATA``
environment variable, else ``~/skmtl_data``), its SHA-256 checked, then
parsed. Offline, put the file at that path by hand: the error message says
where.

A mirror can replace the public homes: ``base_url`` (argument, or the module
attribute ``skmtl.datasets._fetchers.BASE_URL``) is a URL under which the
files live as ``<base_url>/<dataset>/<file>`` (the layout of the cache).
"""

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = [
    "get_data_home",
    "fetch_school",
    "fetch_parkinsons",
    "fetch_computer_survey",
    "fetch_mulan",
    "MULAN_DATASETS",
]

#: Mirror root used instead of the public homes when set (see module docstring).
BASE_URL = None

_TIMEOUT = 60


@dataclass(frozen=True)
class RemoteFile:
    """A file of a data set: where it lives, and its SHA-256 (None: not checked)."""

    dataset: str
    filename: str
    urls: tuple
    sha256: object = None


_ZW = "https://raw.githubusercontent.com/Zhendong-Wang/Probabilistic-Conformal-Prediction/e6f505beaf07f208cb496f85ac91fd37482677c6/data/"
_SMK = "https://raw.githubusercontent.com/jeheydorn/smodelkit/599223f31f01d46eb80162286d7fccf4b7eff187/Datasets/mtr/"

# name -> (number of targets, url root, sha256); targets are the last ARFF columns
MULAN_DATASETS = {
    "atp1d": (6, _ZW, "8f697700a59349a0a6f8a546c1cfda5d6e172a09d6bccfbee9f75be8494992fc"),
    "atp7d": (6, _ZW, "12b7805ef4577bdb7b2e606090a63f35a2a4f1fe8069148e0a4e0f9d1cffdcca"),
    "edm": (2, _SMK, "1724427115c26eac0548668b47cce3336ce6ec41be29489bbbce32ee2d5a0884"),
    "oes10": (16, _SMK, "d5263736fb5ca610bef279ca5009bff0d62a59a45f4fd27754d917303510cfdf"),
    "oes97": (16, _SMK, "488de59312cd1a0c7c387005e3e2a4a8e9e4ba9486f69fb50e6b28b7ffc0969d"),
    "osales": (12, _ZW, "f7a91062edda0fd2dbaebb5864bd4197ab672fe81a34babe1bd629e088cb52b3"),
    "scm20d": (16, _ZW, "2261a94bff5cfb617dbd2e7fd2c17d15d45135103a081917d1358c2ad13a4bd2"),
    "scpf": (3, _ZW, "7ca0cac17d02b3fb981b2fa954fa508c15bdd58dba3a23a70ad4b432a81fa95e"),
}

_PARKINSONS = RemoteFile(
    "parkinsons",
    "parkinsons_updrs.data",
    (
        "https://raw.githubusercontent.com/behnazrzf/Parkinson-s_Telemonitoring/ba4c9fc9d942920f7d31560226b7f274c6d82fe5/parkinsons_updrs.data",
        "https://archive.ics.uci.edu/ml/machine-learning-databases/parkinsons/telemonitoring/parkinsons_updrs.data",
    ),
    "f2c7d5025dec4e92e7feae367a5f7ccf58789a10ac6b54bdf15976c599f9dd39",
)

_COMPUTER = RemoteFile(
    "computer_survey",
    "conjointAnalysisComputerBuyers.mat",
    ("https://raw.githubusercontent.com/tjanez/PyMTL/master/data/computer_survey/conjointAnalysisComputerBuyers.mat",),
    "6e6b5f98f438c7d15ed6c7adab44322c9345f52263a4f3026322019f184679b5",
)

# MALSAR's copy of the ILEA school data (Zhou, Chen & Ye 2011). No checksum is
# shipped: the file was not available when this fetcher was written.
_SCHOOL = RemoteFile(
    "school",
    "school.mat",
    ("https://raw.githubusercontent.com/jiayuzhou/MALSAR/ca3d55b878cc4113f0d9603e8ac46538aeb1ecd9/data/school.mat",),
    None,  # no published checksum; fetch_school checks the content (_SCHOOL_SHAPE)
)
_SCHOOL_SHAPE = (139, 15362)  # schools, students

# Lenk, DeSarbo, Green & Young (1996), attributes A-M of the design matrix
_COMPUTER_FEATURES = [
    "intercept", "telephone_hot_line", "ram", "screen_size", "cpu_speed", "hard_disk",
    "cd_rom", "cache", "color", "availability", "warranty", "software", "guarantee", "price",
]


# --------------------------------------------------------------------------
# download and cache
# --------------------------------------------------------------------------


def get_data_home(data_home=None):
    """Folder of the data cache, created if needed.

    ``data_home`` when given, else the ``SKMTL_DATA`` environment variable,
    else ``~/skmtl_data``.

    Parameters
    ----------
    data_home : str or path-like, default=None

    Returns
    -------
    pathlib.Path
    """
    if data_home is None:
        data_home = os.environ.get("SKMTL_DATA", os.path.join("~", "skmtl_data"))
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch(remote, data_home=None, base_url=None, download_if_missing=True):
    """Path of ``remote`` in the cache, downloading and checking it if needed."""
    folder = get_data_home(data_home) / remote.dataset
    path = folder / remote.filename
    if path.exists():
        if remote.sha256 is None or _sha256(path) == remote.sha256:
            return path
        # a stale or corrupt copy: fetch it again
    where = (
        f"put the file at {path} (or point data_home / the SKMTL_DATA environment variable "
        f"to a folder holding {remote.dataset}/{remote.filename})"
    )
    if not download_if_missing:
        raise OSError(f"{remote.dataset}: {remote.filename} is not in the cache and "
                      f"download_if_missing=False; {where}.")
    base = base_url if base_url is not None else BASE_URL
    urls = (f"{base.rstrip('/')}/{remote.dataset}/{remote.filename}",) if base else remote.urls
    folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_TIMEOUT) as resp:
                shutil.copyfileobj(resp, out)
            digest = _sha256(tmp)
            if remote.sha256 is not None and digest != remote.sha256:
                errors.append(f"{url}: SHA-256 {digest} differs from the expected {remote.sha256}")
                continue
            os.replace(tmp, path)
            return path
        except (urllib.error.URLError, OSError, ValueError) as exc:
            errors.append(f"{url}: {exc}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise OSError(
        f"Could not download {remote.dataset} ({'; '.join(errors)}). If this machine is offline, "
        f"download {remote.urls[0]} elsewhere and {where}."
    )


def _finish(bunch, return_X_y, layout):
    if return_X_y:
        if layout == "long":
            return bunch.data, bunch.target, bunch.task
        return bunch.data, bunch.target
    return bunch


def _check_layout(layout):
    if layout not in ("wide", "long"):
        raise ValueError(f"layout must be 'wide' or 'long'; got {layout!r}.")


def _wide_to_long(X, Y):
    """Stack shared-input wide data: one row per observed (sample, task)."""
    rows, tasks = np.nonzero(~np.isnan(Y))
    order = np.lexsort((rows, tasks))
    rows, tasks = rows[order], tasks[order]
    return X[rows], Y[rows, tasks], tasks


# --------------------------------------------------------------------------
# fetchers
# --------------------------------------------------------------------------


def fetch_parkinsons(*, layout="long", target="motor_UPDRS", data_home=None, base_url=None,
                     download_if_missing=True, return_X_y=False):
    """Parkinson's telemonitoring data (UCI 189; Tsanas et al. 2009).

    5,875 voice recordings of 42 patients (101 to 168 each): age, sex, test
    time and 16 voice measures; targets motor and total UPDRS scores.

    Parameters
    ----------
    layout : {"long", "wide"}, default="long"
        ``"long"``: one task per patient, ``target`` as 1-D ``y`` and the
        patient number in ``task``. ``"wide"``: two tasks (``motor_UPDRS``,
        ``total_UPDRS``) on the shared rows, ``target`` of shape (5875, 2).
    target : {"motor_UPDRS", "total_UPDRS"}, default="motor_UPDRS"
        Target of the long layout.
    data_home : str, default=None
        Cache folder (``SKMTL_DATA`` or ``~/skmtl_data`` when None).
    base_url : str, default=None
        Mirror root holding ``parkinsons/parkinsons_updrs.data``.
    download_if_missing : bool, default=True
    return_X_y : bool, default=False
        Return ``(X, y, task)`` (long) or ``(X, Y)`` (wide) instead of a Bunch.

    Returns
    -------
    Bunch
        ``data`` (n, 19), ``target``, ``task`` (patient per row; None for
        wide), ``feature_names``, ``target_names``, ``DESCR``.
    """
    _check_layout(layout)
    if target not in ("motor_UPDRS", "total_UPDRS"):
        raise ValueError(f"target must be 'motor_UPDRS' or 'total_UPDRS'; got {target!r}.")
    path = _fetch(_PARKINSONS, data_home, base_url, download_if_missing)
    with open(path) as f:
        header = f.readline().strip().split(",")
    values = np.loadtxt(path, delimiter=",", skiprows=1)
    col = {name: k for k, name in enumerate(header)}
    targets = ["motor_UPDRS", "total_UPDRS"]
    feats = [h for h in header if h not in targets and h != "subject#"]
    X = values[:, [col[h] for h in feats]]
    subject = values[:, col["subject#"]].astype(np.int64)
    if layout == "long":
        y, task, target_names = values[:, col[target]], subject, [target]
    else:
        y, task, target_names = values[:, [col[t] for t in targets]], None, targets
    bunch = Bunch(
        data=X, target=y, task=task, subject=subject, feature_names=feats, target_names=target_names,
        DESCR=(
            "Parkinson's telemonitoring (UCI 189; Tsanas, Little, McSharry & Ramig 2009). "
            "5,875 recordings of 42 patients. Long layout: one task per patient; wide layout: "
            "motor and total UPDRS as two tasks. Usual metric: MAE."
        ),
    )
    return _finish(bunch, return_X_y, layout)


def fetch_computer_survey(*, layout="wide", data_home=None, base_url=None, download_if_missing=True,
                          return_X_y=False):
    """Conjoint survey of computer buyers (Lenk, DeSarbo, Green & Young 1996).

    190 respondents rated 20 computer profiles (0-10 likelihood of buying);
    each profile is 13 +-1 coded attributes plus an intercept column. One
    task per respondent, all tasks sharing the 20 inputs. The usual protocol
    (Evgeniou & Pontil; Argyriou et al.) trains on profiles 1-16 and tests on
    17-20 with RMSE.

    Parameters
    ----------
    layout : {"wide", "long"}, default="wide"
        ``"wide"``: ``data`` (20, 14), ``target`` (20, 190). ``"long"``: the
        profiles repeated per respondent, ``target`` 1-D and ``task`` the
        respondent (0-189).
    data_home, base_url, download_if_missing, return_X_y
        As in :func:`fetch_parkinsons`.

    Returns
    -------
    Bunch
        ``data``, ``target``, ``task``, ``feature_names``, ``covariates``
        (190, 7) respondent covariates, ``DESCR``.
    """
    from scipy.io import loadmat

    _check_layout(layout)
    path = _fetch(_COMPUTER, data_home, base_url, download_if_missing)
    mat = loadmat(path)
    X = np.asarray(mat["designMarix"], dtype=np.float64)  # the file's spelling
    Y = np.asarray(mat["likeBuy"], dtype=np.float64).T  # (20 profiles, 190 respondents)
    task = None
    if layout == "long":
        X, Y, task = _wide_to_long(X, Y)
    bunch = Bunch(
        data=X, target=Y, task=task, feature_names=list(_COMPUTER_FEATURES),
        covariates=np.asarray(mat["computerDataZ"], dtype=np.float64),
        DESCR=(
            "Computer-buyer conjoint survey (Lenk et al. 1996): 190 respondents (tasks) rate the "
            "same 20 profiles (13 binary attributes + intercept) from 0 to 10. Train on profiles "
            "1-16, test on 17-20; metric RMSE."
        ),
    )
    return _finish(bunch, return_X_y, layout)


def fetch_mulan(name, *, layout="wide", data_home=None, base_url=None, download_if_missing=True,
                return_X_y=False):
    """A multi-target regression data set of the MULAN benchmark.

    Spyromitros-Xioufis, Tsoumakas, Groves & Vlahavas (2016): ``atp1d``,
    ``atp7d``, ``edm``, ``oes10``, ``oes97``, ``osales``, ``scm20d``,
    ``scpf``. Targets are the last columns of each ARFF file; ``osales`` and
    ``scpf`` have missing inputs (NaN in ``data``): impute them before
    fitting. NaN targets, where a copy has them, are kept as NaN.

    Parameters
    ----------
    name : str
        One of ``MULAN_DATASETS``.
    layout : {"wide", "long"}, default="wide"
        ``"wide"``: ``target`` (n, n_targets) with NaN where missing.
        ``"long"``: one row per observed target, ``task`` the target index.
    data_home, base_url, download_if_missing, return_X_y
        As in :func:`fetch_parkinsons`.

    Returns
    -------
    Bunch
        ``data``, ``target``, ``task``, ``feature_names``, ``target_names``,
        ``DESCR``.
    """
    from scipy.io import arff

    _check_layout(layout)
    if name not in MULAN_DATASETS:
        raise ValueError(f"Unknown MULAN data set {name!r}; choose among {sorted(MULAN_DATASETS)}.")
    n_targets, root, sha = MULAN_DATASETS[name]
    remote = RemoteFile("mulan_mtr", f"{name}.arff", (root + f"{name}.arff",), sha)
    path = _fetch(remote, data_home, base_url, download_if_missing)
    with open(path, encoding="utf-8", errors="replace") as f:
        records, meta = arff.loadarff(f)
    names = list(meta.names())
    values = np.column_stack([np.asarray(records[c], dtype=np.float64) for c in names])
    X, Y = values[:, :-n_targets], values[:, -n_targets:]
    task = None
    if layout == "long":
        X, Y, task = _wide_to_long(X, Y)
    bunch = Bunch(
        data=X, target=Y, task=task, feature_names=names[:-n_targets], target_names=names[-n_targets:],
        DESCR=(
            f"MULAN multi-target regression data set {name!r} (Spyromitros-Xioufis et al. 2016): "
            f"{values.shape[0]} rows, {len(names) - n_targets} inputs, {n_targets} targets. "
            "Protocol: 10-fold CV, metric aRRMSE."
        ),
    )
    return _finish(bunch, return_X_y, layout)


def fetch_school(*, layout="long", data_home=None, base_url=None, download_if_missing=True,
                 return_X_y=False):
    """ILEA school exam scores: 139 schools, 15,362 students.

    The classic multi-task benchmark (Goldstein 1991; Bakker & Heskes 2003;
    Evgeniou & Pontil 2004; Argyriou et al. 2008), in MALSAR's copy
    (``school.mat``, cells ``X`` and ``Y`` of one school each). The usual
    metric is the explained variance pooled over schools
    (:func:`skmtl.metrics.explained_variance_pooled`).

    The download is not checked against a checksum (none is shipped yet).

    Parameters
    ----------
    layout : {"long", "wide"}, default="long"
        ``"long"``: ``data`` (15362, n_features), ``target`` 1-D and ``task``
        the school (0-138). ``"wide"`` is not meaningful (schools have their
        own students) and raises ``ValueError``.
    data_home, base_url, download_if_missing, return_X_y
        As in :func:`fetch_parkinsons`.

    Returns
    -------
    Bunch
        ``data``, ``target``, ``task``, ``feature_names``, ``DESCR``.
    """
    from scipy.io import loadmat

    if layout != "long":
        raise ValueError("fetch_school supports layout='long' only: every school has its own students.")
    path = _fetch(_SCHOOL, data_home, base_url, download_if_missing)
    mat = loadmat(path)
    Xc, Yc = np.ravel(mat["X"]), np.ravel(mat["Y"])
    if len(Xc) != len(Yc):
        raise ValueError(f"{path}: X has {len(Xc)} schools but Y has {len(Yc)}.")
    X = np.vstack([np.asarray(x, dtype=np.float64) for x in Xc])
    y = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in Yc])
    task = np.repeat(np.arange(len(Xc)), [np.asarray(x).shape[0] for x in Xc])
    # no published checksum for MALSAR's file: check its content instead
    if (len(Xc), len(y)) != _SCHOOL_SHAPE or len(X) != len(y):
        raise ValueError(
            f"{path} is not the ILEA school data: expected {_SCHOOL_SHAPE[0]} schools and "
            f"{_SCHOOL_SHAPE[1]} students, got {len(Xc)} schools, {len(X)} feature rows and "
            f"{len(y)} targets. Delete the file and fetch again, or put MALSAR's data/school.mat there."
        )
    bunch = Bunch(
        data=X, target=y, task=task, feature_names=[f"x{j}" for j in range(X.shape[1])],
        DESCR=(
            f"ILEA school data (MALSAR copy): {len(Xc)} schools, {len(y)} students, "
            f"{X.shape[1]} features. One task per school; metric: pooled explained variance."
        ),
    )
    return _finish(bunch, return_X_y, "long")
