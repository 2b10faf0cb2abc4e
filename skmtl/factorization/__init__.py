"""skmtl.factorization."""
