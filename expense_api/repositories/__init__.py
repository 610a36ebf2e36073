"""Repository functions: the connection first, named queries from sql/, never a commit."""
