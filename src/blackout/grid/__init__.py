"""The grid: the data model (Grid, tables and their schema), topology and case readers.

The bottom layer: imports nothing of blackout above it."""
