"""The workflow layer: a generic engine, the PAKN workflow as data and the working-day calendar.

Nothing in this package imports Flask: jobs, the CLI and tests use it directly.
"""
