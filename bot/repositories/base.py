"""What repositories run SQL on: the pool, or a connection inside a transaction."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg

Queryable: TypeAlias = asyncpg.Pool | asyncpg.Connection
