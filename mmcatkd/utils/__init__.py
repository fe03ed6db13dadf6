"""Pieces several layers share (tools, engine, models, datasets)."""
