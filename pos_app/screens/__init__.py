"""The terminal's screens: login, sale, card, processing, OTP, result, today, help,
inspector, and the modals (manager approval, confirmation, demo cards)."""
