"""skmtl.model_selection."""
