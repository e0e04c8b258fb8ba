"""Stage 4, the scheduler: what runs on a clock rather than on an event: auto-resolve, dedup
key pruning, and the diagnostics (checks.py decides, diagnostics.py gathers)."""
