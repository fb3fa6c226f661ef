"""``python -m syncws URL``: the interactive client of ``syncws.cli``."""

from .cli import run

if __name__ == "__main__":
    run()
