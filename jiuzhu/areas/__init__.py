"""Areas: the division tree (6-, 9- and 12-digit codes) every household and user hangs from."""
