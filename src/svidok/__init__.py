"""Svidok: a self-hosted evidence locker for documenting human-rights violations."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("svidok")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
