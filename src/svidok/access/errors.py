"""The one error the access layer raises; its message can be shown to the person as is."""

from __future__ import annotations


class AccessError(Exception):
    """A refused or impossible access operation; the message says what and what to do.

    Messages never contain a password, hash, token or TOTP secret.
    """
