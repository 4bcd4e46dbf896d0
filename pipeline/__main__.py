"""``python -m pipeline`` is the same as the ``jaicp-pipeline`` command."""

from pipeline.cli.main import main

if __name__ == "__main__":
    main()
