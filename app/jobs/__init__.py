"""Background jobs: one module per family; `worker.py` assembles them for SAQ."""
