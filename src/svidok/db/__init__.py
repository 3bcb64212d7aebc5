"""Records: the SQLAlchemy Core schema, engines for SQLite and PostgreSQL, migrations."""

from svidok.db.engine import DatabaseError, connect, migrate
from svidok.db.schema import metadata

__all__ = ["DatabaseError", "connect", "metadata", "migrate"]
