"""skmtl.gaussian_process."""
