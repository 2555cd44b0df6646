"""Household economic-status verification (家庭经济状况核对, DOMAIN.md §8): departments, consent, exchange."""
