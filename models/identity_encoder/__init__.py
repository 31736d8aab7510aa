"""Offline identity encoder for the IIM / identity loss (see MODEL_CARD.md)."""
