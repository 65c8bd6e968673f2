"""The ``permadani`` command line. Library errors become messages and exit codes here, and only here."""
