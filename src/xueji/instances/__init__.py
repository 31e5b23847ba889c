"""Process instances: start, advance, suspend, terminate."""
