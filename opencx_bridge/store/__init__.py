"""The database: tables (models.py), runtime settings, the Freshchat connection as stored,
sessions, contacts, users, the timeline, migrations on start, and what SQLite and
PostgreSQL each need (sqlite.py, postgres.py)."""
