"""What every reader reports for a part of a source it cannot read.

One shape for all formats, so an importer records them alike: where (a message, a record,
a page, with its byte offset when there is one) and what is wrong. The message never
quotes the source: it is evidence, and problems reach logs and terminals.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    where: str  # "message 3 (byte 10240)", "archive/a.warc.gz record 4", "PDF page 3"
    message: str  # what is wrong, never the source's content
