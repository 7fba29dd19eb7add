"""fairlatent."""
