"""vetta-finance: a vetta domain pack that explains financial concepts from vetted investor education material."""
