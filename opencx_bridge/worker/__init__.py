"""Who runs the stages: worker threads in lanes per conversation (runner.py), which worker
leads (leadership.py), and the worker as a child process of `flask serve` (process.py)."""
