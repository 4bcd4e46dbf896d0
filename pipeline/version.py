"""The package's version, in a module of its own so that any stage can name it (the webhook's
User-Agent) without importing the package's front door.

Usage::

    from pipeline.version import __version__
"""

__version__ = "0.1.0"
