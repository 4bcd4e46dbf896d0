"""The JAICP Calls API client and its models.

Usage::

    from pipeline.api import encode_add_phones
    body = encode_add_phones(items)          # canonical bytes, stored in the ledger and resent
"""

from pipeline.api.encoding import encode_add_phones

__all__ = ["encode_add_phones"]
