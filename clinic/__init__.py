"""The clinic server behind `imbalance serve`: patients, visits and the consultation in a browser,
and the CDS Hooks 2.0 service (`cds_hooks`) that a health record calls.

One module per concept: `settings` (where the database is, who may connect), `db` (engine,
sessions, migrations on start), `models` (the tables), `store` (the few queries and the
one-transaction writes), `assessing` (the engine and report, shared with the CLI), `forms` and
`consultation` (the two ways to record a visit), `security` and `auth` (sessions, CSRF, CSP,
logins), `audit` and `routes/` (the pages). `app.create_app` puts them together.
"""
