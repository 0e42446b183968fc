"""Physics of a cascade: system frequency response, protection relays, UFLS."""
