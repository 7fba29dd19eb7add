"""``python -m fairlatent.cli``: the same as the ``fairlatent`` command."""

from fairlatent.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
