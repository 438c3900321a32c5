"""The one exception type the builder raises for problems a user can fix."""


class BuildError(Exception):
    """A build problem reported as one message and exit status 2 (never a traceback)."""
