"""The demo: seeded users, funds and keys, and a market maker that keeps every book alive.

``seed`` prepares the database before the server starts; ``marketmaker`` runs inside the serving
process (the exchange's one writer) as a background job.
"""
