"""Bytes only: the content-addressed blobs, the hash-chained journal, copying and hashing.

No SQL and no domain words here. ``objects.Objects`` and ``journal.Journal`` are the
interfaces; the local file system is the default backend and ``s3/`` the second.
"""
