"""skmtl.plotting."""
