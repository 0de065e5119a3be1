"""Who acted, proved: Ed25519 keys and their roles, signed batches, and the proof that a
journal's every batch was signed by an enrolled key allowed to write it."""
