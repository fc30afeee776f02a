"""vetta-science: a vetta domain pack that answers science questions from vetted agency and registry sources."""
