"""syncws benchmark suite: neutral Node echo servers, one fresh process per client run.

Run ``python -m bench`` from the repository root; see bench/README.md.
"""
