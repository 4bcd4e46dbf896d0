"""jaicp-pipeline: load CRM phone exports into JAICP call campaigns exactly once.

The library is usable without the CLI::

    from pipeline.config import load_config
    cfg = load_config("configs/example.yaml")
"""

__version__ = "0.1.0"
