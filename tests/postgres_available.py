"""Exit 0 when the test PostgreSQL server answers (used by `make test-postgres`)."""

import sys

from tests.databases import postgres_available

if __name__ == "__main__":
    sys.exit(0 if postgres_available() else 1)
