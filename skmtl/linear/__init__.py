"""skmtl.linear."""
