"""The domain: plain typed functions over a Session. They raise domain errors and
flush, but never commit; the caller owns the transaction."""
