"""Widgets of the terminal: the card number field, keypad, route map, large type,
status bar and text fields."""
