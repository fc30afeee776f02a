"""vetta-healthcare: a vetta domain pack that answers health questions from vetted public health guidance."""
