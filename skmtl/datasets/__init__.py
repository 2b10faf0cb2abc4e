"""Multi-task data sets: synthetic problems with known structure, and fetchers for real ones."""

from ._fetchers import (
    MULAN_DATASETS,
    fetch_computer_survey,
    fetch_mulan,
    fetch_parkinsons,
    fetch_school,
    get_data_home,
)
from ._plink import GenotypeMatrix, read_plink, write_plink
from ._synthetic import make_multitask_regression

__all__ = [
    "make_multitask_regression",
    "fetch_school",
    "fetch_parkinsons",
    "fetch_computer_survey",
    "fetch_mulan",
    "get_data_home",
    "MULAN_DATASETS",
    "read_plink",
    "write_plink",
    "GenotypeMatrix",
]
