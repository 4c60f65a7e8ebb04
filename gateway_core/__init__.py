"""The paygate gateway core: money, cards, vault, store, audit. Never imports Textual."""
