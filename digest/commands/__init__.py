"""One module per command: each is the function its Click command calls."""
