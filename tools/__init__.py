"""Course tooling: the student edition of the book (``make book-student``)."""
