"""Importers, one module per input format (textdump, htmlpage, feed, jsonl; web fetches
URLs; base holds what they share). pipeline.py runs them: detect, parse, clean, store."""
