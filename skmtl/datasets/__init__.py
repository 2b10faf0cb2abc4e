"""skmtl.datasets."""
