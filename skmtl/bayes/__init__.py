"""skmtl.bayes."""
